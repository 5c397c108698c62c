using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Merging;

public class ExecutorTests
{
    /// <summary>A two-prepass method that records what it is shown and writes theta0 + (max over passes of the task count).</summary>
    private sealed class Recorder : MergeMethod
    {
        public readonly List<string> Calls = new();
        public readonly List<(string Name, DType Theta0, DType[] Thetas)> Stored = new();
        public override int PrepassCount => 2;
        public override void Observe(int pass, TensorGroup g) => Calls.Add($"observe{pass}:{g.Index}:{g.Name}:{g.K}");
        public override void EndPrepass(int pass) => Calls.Add($"end{pass}");
        public override void Merge(TensorGroup g, Tensor merged)
        {
            Calls.Add($"merge:{g.Index}:{g.Name}");
            Stored.Add((g.Name, g.Theta0.DType, g.Thetas.Select(t => t.DType).ToArray()));
            var m = merged.Write<float>();
            var t0 = g.Theta0Tile(0, m.Length, new float[m.Length]);
            for (int i = 0; i < m.Length; i++) m[i] = t0[i] + 1;
        }
    }

    [Test]
    public void PrepassesSeeEverySharedTensorInSortedOrderBeforeTheMergePass()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 30);
        using var problem = MergeProblem.Open(b, tasks);
        var method = new Recorder();
        var reports = new List<MergeProgress>();
        using (var output = MergeOutput.Plan(problem, dir.File("out.safetensors"), null))
            new MergeExecutor(problem, method, output, new Collect(reports)).Run();
        var names = TestModels.Mixed.Select(s => s.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var expected = new List<string>();
        for (int pass = 0; pass < 2; pass++)
        {
            expected.AddRange(names.Select((n, i) => $"observe{pass}:{i}:{n}:2"));
            expected.Add($"end{pass}");
        }
        expected.AddRange(names.Select((n, i) => $"merge:{i}:{n}"));
        Assert.That(method.Calls, Is.EqualTo(expected));
        // Methods see the tensors in their stored dtype (no whole-tensor f32 copy); tiles are converted on read.
        foreach (var (name, t0, ts) in method.Stored)
        {
            var dtype = TestModels.Mixed.Single(s => s.Name == name).DType;
            Assert.That(t0, Is.EqualTo(dtype), name);
            Assert.That(ts, Is.All.EqualTo(dtype), name);
        }

        var theta0 = TestModels.ReadSafetensors(b);
        var merged = TestModels.ReadSafetensors(dir.File("out.safetensors"));
        foreach (var s in TestModels.Mixed)
            for (int i = 0; i < s.Count; i++)
                Assert.That(Ulp.Distance(merged[s.Name][i], Ulp.Round(theta0[s.Name][i] + 1, s.DType == DType.F64 ? DType.F32 : s.DType), s.DType == DType.F64 ? DType.F32 : s.DType), Is.LessThanOrEqualTo(1));

        var last = reports[^1];
        Assert.That(last.TensorsDone, Is.EqualTo(last.TensorsTotal));
        Assert.That(last.TensorsTotal, Is.EqualTo(3 * names.Count));
        Assert.That(last.BytesRead, Is.EqualTo(last.BytesTotal));
        Assert.That(reports.Select(r => r.TensorsDone), Is.Ordered);
    }

    private sealed class Collect(List<MergeProgress> list) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => list.Add(value);
    }
}
