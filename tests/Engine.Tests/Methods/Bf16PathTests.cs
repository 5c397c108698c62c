using System.Text.Json;
using System.Text;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;
using TiesMergeMode = Amalgam.Kernels.Merge.TiesMergeMode;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// task_arithmetic and TIES read all-bf16 tasks in place with fused kernels (Bf16Merge); they must
/// produce exactly the bits (and TIES the same report: thresholds, kept fractions, majority sign)
/// as the same values stored as f32, which take the f32 kernels.
/// </summary>
public class Bf16PathTests
{
    private const int N = 2 * TensorGroup.TileElements + 4099;   // several tiles, odd tail
    private const int K = 5;

    private static (TensorGroup Bf16, TensorGroup F32, List<Tensor> Owned) Groups(DType theta0Dtype, int seed)
    {
        var rng = new Random(seed);
        var owned = new List<Tensor>();
        Tensor Pair(string name, DType dtype, Func<int, float> value, out Tensor wide)
        {
            var stored = Tensor.Allocate(name, dtype, [N]);
            wide = Tensor.Allocate(name + ".f32", DType.F32, [N]);
            owned.Add(stored);
            owned.Add(wide);
            for (int i = 0; i < N; i++)
            {
                float v = value(i);
                ushort bits = (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16);
                float exact = dtype == DType.BF16 ? BitConverter.UInt32BitsToSingle((uint)bits << 16) : v;
                if (dtype == DType.BF16) stored.Write<ushort>(i, 1)[0] = bits; else stored.Write<float>(i, 1)[0] = exact;
                wide.Write<float>(i, 1)[0] = exact;
            }
            return stored;
        }
        var base0 = Enumerable.Range(0, N).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var t0 = Pair("w", theta0Dtype, i => base0[i], out var t0Wide);
        var tasks = new List<Tensor>();
        var wideTasks = new List<Tensor>();
        for (int k = 0; k < K; k++)
        {
            tasks.Add(Pair($"w{k}", DType.BF16, i => rng.Next(8) == 0 ? base0[i] : base0[i] + (float)((rng.NextDouble() * 2 - 1) * 0.05), out var wide));
            wideTasks.Add(wide);
        }
        return (new TensorGroup("w", 0, t0, tasks), new TensorGroup("w", 0, t0Wide, wideTasks), owned);
    }

    private static (int[] Bits, string Report) Run(MergeMethod method, TensorGroup g)
    {
        for (int pass = 0; pass < method.PrepassCount; pass++)
        {
            method.Observe(pass, g);
            method.EndPrepass(pass);
        }
        using var merged = Tensor.Allocate("out", DType.F32, [N]);
        method.Merge(g, merged);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            method.WriteReport(w);
            w.WriteEndObject();
        }
        return (merged.Read<float>(0, N).ToArray().Select(BitConverter.SingleToInt32Bits).ToArray(), Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static IEnumerable<TestCaseData> Cases() =>
        from dt in new[] { DType.BF16, DType.F32 }
        from m in new[] { "task_arithmetic", "ties_global", "ties_tensor" }
        select new TestCaseData(dt, m);

    [TestCaseSource(nameof(Cases))]
    public void Bf16TasksGiveTheBitsOfTheF32Path(DType theta0Dtype, string method)
    {
        var (bf, f32, owned) = Groups(theta0Dtype, seed: method.Length * 17 + (int)theta0Dtype);
        try
        {
            double[] weights = [1, 0.5, -0.75, 2, 1];
            MergeMethod Make() => method switch
            {
                "task_arithmetic" => new TaskArithmeticMethod(0.3, weights),
                "ties_global" => new TiesMethod(new TiesOptions(0.2, TiesScope.Global, true, TiesMergeMode.Sum, 0.3, weights, "fusionbench"), drop: null),
                _ => new TiesMethod(new TiesOptions(0.2, TiesScope.Tensor, false, TiesMergeMode.Mean, 1, weights, "mergekit"), drop: null),
            };
            var (bitsBf, reportBf) = Run(Make(), bf);
            var (bitsF32, reportF32) = Run(Make(), f32);
            Assert.That(bitsBf, Is.EqualTo(bitsF32));
            Assert.That(reportBf, Is.EqualTo(reportF32));
            if (method != "task_arithmetic") Assert.That(reportBf, Does.Contain("kept_fractions"));
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }
}
