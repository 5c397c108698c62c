using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels.Device;
using Amalgam.Kernels.Optim;
using static Amalgam.Kernels.Tests.Device.DeviceData;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>
/// The AdaMerging step's device kernels against the host's (ThetaCombine via ThetaWriter, GradientSums via GradientReduction, the trainer's
/// masked Adam and clamp): bit for bit, except the float64 dot products, which sum in another order.
/// </summary>
public sealed class AdaMergingDeviceTests
{
    // 70 001: two host slices (65 536 each) and 18 tiles, the last partial; 4 096: exactly one tile; 1 and 33: under one lane row.
    private static readonly long[] Lengths = [70_001, 4_096, 12_345, 1, 33];

    private static DeviceContext Device => DeviceUnderTest.Device;

    /// <summary>The same random task vectors on the host (TaskVectorStore) and flat on the device.</summary>
    private sealed class Problem : IDisposable
    {
        public Problem(int k, int seed)
        {
            K = k;
            var rng = new System.Random(seed);
            var theta0 = new List<Tensor>();
            var taus = new List<Tensor>();
            foreach (long n in Lengths)
            {
                var t0 = Tensor.Allocate("t" + n, DType.F32, [n]);
                var tau = Tensor.Allocate("t" + n + ".tau", DType.F32, [k, n]);
                Uniform(rng, n).CopyTo(t0.Write<float>());
                Uniform(rng, k * n, 0.1).CopyTo(tau.Write<float>());
                theta0.Add(t0);
                taus.Add(tau);
            }
            Host = TaskVectorStore.FromTensors(Lengths.Select(n => "t" + n).ToArray(), theta0, taus, k);
            Theta0 = Host.Theta0.SelectMany(t => t.Read<float>().ToArray()).ToArray();
            Taus = Host.Taus.SelectMany(t => t.Read<float>().ToArray()).ToArray();
            Layout = new SharedLayout(Device, Lengths, k);
            DeviceTheta0 = Device.Upload<float>(Theta0);
            DeviceTaus = Device.Upload<float>(Taus);
        }

        public int K { get; }
        public TaskVectorStore Host { get; }
        public float[] Theta0 { get; }
        public float[] Taus { get; }
        public SharedLayout Layout { get; }
        public ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> DeviceTheta0 { get; }
        public ILGPU.Runtime.MemoryBuffer1D<float, ILGPU.Stride1D.Dense> DeviceTaus { get; }

        /// <summary>Per-tensor f32 tensors from one flat array.</summary>
        public Tensor[] Split(float[] flat, string name)
        {
            var tensors = new Tensor[Lengths.Length];
            long offset = 0;
            for (int l = 0; l < Lengths.Length; l++)
            {
                tensors[l] = Tensor.Allocate(name + l, DType.F32, [Lengths[l]]);
                flat.AsSpan((int)offset, (int)Lengths[l]).CopyTo(tensors[l].Write<float>());
                offset += Lengths[l];
            }
            return tensors;
        }

        public static float[] Flat(IEnumerable<Tensor> tensors) => tensors.SelectMany(t => t.Read<float>().ToArray()).ToArray();

        public void Dispose()
        {
            DeviceTaus.Dispose();
            DeviceTheta0.Dispose();
            Layout.Dispose();
            Host.Dispose();
        }
    }

    /// <summary>Per tensor random rows in [0, 1], one row all equal (the host's equal-coefficient form) and one of 0s and 1s.</summary>
    private static float[] Coefficients(int k, System.Random rng)
    {
        var c = new float[Lengths.Length * k];
        for (int i = 0; i < c.Length; i++) c[i] = (float)rng.NextDouble();
        for (int t = 0; t < k; t++)
        {
            c[1 * k + t] = 0.37f;
            c[3 * k + t] = t % 2;
        }
        return c;
    }

    [TestCase(1)]
    [TestCase(3)]
    public void ThetaMergeIsTheHostThetaCombineBitwise(int k)
    {
        using var p = new Problem(k, seed: 10 + k);
        float[] c = Coefficients(k, new System.Random(20 + k));
        var outputs = Lengths.Select(n => Tensor.Allocate("o", DType.F32, [n])).ToArray();
        try
        {
            ThetaWriter.Run(p.Host, p.Host.Slices, c, outputs);
            using var coefficients = Device.Upload<float>(c);
            using var theta = Device.Allocate<float>(p.Layout.Elements);
            ThetaMerge.Run(Device, p.Layout, p.DeviceTheta0.View, p.DeviceTaus.View, coefficients.View, theta.View);
            AssertBitwise(Device.Download(theta), Problem.Flat(outputs), $"theta, K = {k}");
        }
        finally
        {
            foreach (var o in outputs) o.Dispose();
        }
    }

    [TestCase(1)]
    [TestCase(3)]
    public void AccumulateIsBitwiseAndDotsAreTheHostReductionWithin1e6(int k)
    {
        using var p = new Problem(k, seed: 30 + k);
        var rng = new System.Random(40 + k);
        float[] g1 = Uniform(rng, p.Layout.Elements), g2 = Uniform(rng, p.Layout.Elements, 3);
        var grads1 = p.Split(g1, "g1");
        var grads2 = p.Split(g2, "g2");
        var sums = p.Split(new float[g1.Length], "s");
        try
        {
            GradientReduction.Accumulate(p.Host, grads1, sums, first: true, threads: 1);
            GradientReduction.Accumulate(p.Host, grads2, sums, first: false, threads: 1);
            GradientReduction.Accumulate(p.Host, grads1, sums, first: false, threads: 1);
            double[] expected = GradientReduction.Reduce(p.Host, sums);

            using var d1 = Device.Upload<float>(g1);
            using var d2 = Device.Upload<float>(g2);
            using var sum = Device.Allocate<float>(p.Layout.Elements);
            GradientAccumulate.Run(Device, d1.View, sum.View, first: true);
            GradientAccumulate.Run(Device, d2.View, sum.View, first: false);
            GradientAccumulate.Run(Device, d1.View, sum.View, first: false);
            AssertBitwise(Device.Download(sum), Problem.Flat(sums), $"sum of gradients, K = {k}");

            using var scratch = Device.Allocate<double>(GradientDots.ScratchLength(p.Layout));
            using var dots = Device.Allocate<double>(Lengths.Length * k);
            GradientDots.Run(Device, p.Layout, sum.View, p.DeviceTaus.View, scratch.View, dots.View);
            AssertRelative(Device.Download(dots), expected, 1e-6, $"dL/dc, K = {k}");
        }
        finally
        {
            foreach (var t in grads1.Concat(grads2).Concat(sums)) t.Dispose();
        }
    }

    [TestCase(Granularity.Task, 1)]
    [TestCase(Granularity.Task, 3)]
    [TestCase(Granularity.Layer, 1)]
    [TestCase(Granularity.Layer, 3)]
    public void CoefficientStepIsTheTrainersMaskedAdamAndClampBitwise(Granularity granularity, int k)
    {
        int tensors = Lengths.Length;
        var layout = new CoefficientLayout(granularity, Lengths.Select(n => "t" + n).ToArray(), k);
        bool layerWise = granularity == Granularity.Layer;
        var rng = new System.Random(50 + k);
        float[] raw = Enumerable.Range(0, layout.Count).Select(_ => (float)(rng.NextDouble() * 1.4 - 0.2)).ToArray();
        float[] special = [0f, 1f, -0f, 1.0000001f, float.NaN, -1e-30f];
        for (int i = 0; i < Math.Min(raw.Length, special.Length); i++) raw[i] = special[i];
        var settings = new AdamSettings(LearningRate: 0.05f, WeightDecay: 0.01f);
        float[] m = new float[raw.Length], v = new float[raw.Length];

        using var dRaw = Device.Upload<float>(raw);
        using var dM = Device.Upload<float>(m);
        using var dV = Device.Upload<float>(v);
        using var dClamped = Device.Allocate<float>(tensors * k);
        CoefficientStep.Clamp(Device, tensors, k, layerWise, dRaw.View, dClamped.View);
        AssertBitwise(Device.Download(dClamped), layout.ClampedPerTensor(raw), "initial clamp");
        for (long step = 1; step <= 4; step++)
        {
            double[] perTensor = Enumerable.Range(0, tensors * k).Select(_ => (rng.NextDouble() - 0.5) * 3).ToArray();
            perTensor[^1] = -0.0;
            // The host: AdaMergingTrainer.Evaluate's gather and mask, then Step's cast and Adam.
            var gradient = new double[layout.Count];
            for (int l = 0; l < tensors; l++)
                for (int t = 0; t < k; t++) gradient[layout.Index(l, t)] += perTensor[l * k + t];
            for (int i = 0; i < gradient.Length; i++)
                if (!CoefficientLayout.Passes(raw[i])) gradient[i] = 0;
            Adam.Step(raw, gradient.Select(x => (float)x).ToArray(), m, v, settings, step);

            using var dots = Device.Upload<double>(perTensor);
            CoefficientStep.Run(Device, tensors, k, layerWise, dots.View, dRaw.View, dM.View, dV.View, settings, step, dClamped.View);
            AssertBitwise(Device.Download(dRaw), raw, $"raw after step {step}");
            AssertBitwise(Device.Download(dM), m, $"first moment after step {step}");
            AssertBitwise(Device.Download(dV), v, $"second moment after step {step}");
            AssertBitwise(Device.Download(dClamped), layout.ClampedPerTensor(raw), $"clamped after step {step}");
        }
    }
}
