using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.Fisher;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Methods.FisherMethod;

/// <summary>
/// `fisher` through <see cref="Merger.Merge"/> on the CLIP-style fixture: task models are the base
/// plus random task vectors, heads private. The merged shared weights are checked against the
/// float64 formula sum_k max(F_k, 1e-6) theta_k / sum_k max(F_k, 1e-6) with each F_k from a
/// one-off <see cref="FisherEstimator.Compute(OnnxModel, IReadOnlyDictionary{string, Tensor}, IReadOnlyList{string}, long, int, Action{long}?, CancellationToken)"/>
/// on the task's own model (itself checked against finite differences), heads per task.
/// </summary>
public sealed class FisherMergeTests
{
    private const string Model = "clip_tiny_op17";

    private static string WritePixels(string path, int n, int seed)
    {
        using var t = Tensor.Allocate("pixel_values", DType.F32, [n, 3, 28, 28]);
        var w = t.Write<float>();
        var rng = new Random(seed);
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        NpyFile.Write(path, t);
        return path;
    }

    private static MergeResult Run(string[] tasks, string[] data, string @out, int samples, int threads = 0) =>
        Merger.Merge(new MergeRequest
        {
            Method = "fisher",
            Base = Fixtures.Onnx(Model),
            Models = tasks,
            Data = data,
            Private = @"^head\.",
            Set = new Dictionary<string, string> { ["samples"] = samples.ToString() },
            Threads = threads,
            Out = @out,
        });

    [Test]
    public void MergesSharedWeightsByFisherAndKeepsHeadsPerTask()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 3, seed: 21);
        var data = Enumerable.Range(0, 3).Select(k => WritePixels(dir.File($"x{k}.npy"), 6, 30 + k)).ToArray();
        var result = Run(tasks, data, dir.File("out"), samples: 5);
        Assert.That(result.Outputs, Has.Count.EqualTo(3));

        var thetas = tasks.Select(TestModels.ReadOnnx).ToArray();
        var shared = thetas[0].Keys.Where(n => !n.StartsWith("head.", StringComparison.Ordinal)).ToList();
        var fishers = new List<Dictionary<string, double[]>>();
        for (int k = 0; k < 3; k++)
        {
            var model = OnnxModel.Load(tasks[k]);
            using var x = Amalgam.Engine.Training.SampleData.Load(model, data[k]);
            var f = FisherEstimator.Compute(model, x.Inputs, shared, 5, workers: 1);
            fishers.Add(f.ToDictionary(kv => kv.Key, kv => TestModels.ToDoubles(kv.Value)));
            foreach (var t in f.Values) t.Dispose();
        }
        // The Fisher is not uniform: the weighting matters (else this test could not tell it from average).
        Assert.That(fishers[0]["proj"].Max() / fishers[0]["proj"].Min(), Is.GreaterThan(10));

        for (int k = 0; k < 3; k++)
        {
            var merged = TestModels.ReadOnnx(dir.File($"out/task{k}.onnx"));
            foreach (string name in shared)
            {
                var got = merged[name];
                for (int i = 0; i < got.Length; i++)
                {
                    double num = 0, den = 0;
                    for (int t = 0; t < 3; t++)
                    {
                        double w = Math.Max(fishers[t][name][i], 1e-6f);
                        num += w * thetas[t][name][i];
                        den += w;
                    }
                    double want = num / den, spread = 0;
                    for (int t = 0; t < 3; t++) spread += Math.Max(fishers[t][name][i], 1e-6f) * Math.Abs(thetas[t][name][i] - want) / den;
                    // The merge's F comes from one gradient graph for all tasks (heads bound as inputs), the reference's from
                    // each task's own graph: equal up to f32 rounding (relative 1e-5 allowed), which moves the result by at most that times the spread.
                    double bound = 1e-5 * spread + Math.Abs(want) * 6e-8;
                    Assert.That(Math.Abs(got[i] - want), Is.LessThanOrEqualTo(bound), $"task{k} {name}[{i}]");
                }
            }
            foreach (string head in new[] { "head.weight", "head.bias" })
                Assert.That(merged[head], Is.EqualTo(thetas[k][head]), $"task{k} {head}");
        }
        Assert.That(result.MethodResultsJson, Does.Contain("\"samples\":5"));
    }

    [Test]
    public void OneTaskGivesItsOwnWeights()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 1, seed: 22);
        Run(tasks, [WritePixels(dir.File("x.npy"), 3, 1)], dir.File("out"), samples: 3);
        var want = TestModels.ReadOnnx(tasks[0]);
        var got = TestModels.ReadOnnx(dir.File("out/task0.onnx"));
        foreach (var (name, values) in want) Assert.That(got[name], Is.EqualTo(values), name);
    }

    [Test]
    public void OneAndTwoThreadsGiveIdenticalFiles()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 2, seed: 23);
        var data = Enumerable.Range(0, 2).Select(k => WritePixels(dir.File($"x{k}.npy"), 5, 40 + k)).ToArray();
        Run(tasks, data, dir.File("t1"), samples: 5, threads: 1);
        Run(tasks, data, dir.File("t2"), samples: 5, threads: 2);
        foreach (string t in new[] { "task0.onnx", "task1.onnx" })
            Assert.That(File.ReadAllBytes(dir.File($"t2/{t}")), Is.EqualTo(File.ReadAllBytes(dir.File($"t1/{t}"))), t);
    }

    private sealed class Recorder : IProgress<Amalgam.Engine.Merging.MergeProgress>
    {
        public List<Amalgam.Engine.Merging.MergeProgress> Reports { get; } = [];
        public void Report(Amalgam.Engine.Merging.MergeProgress value) { lock (Reports) Reports.Add(value); }
    }

    [Test]
    public void ReportsProgressPerTask()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 2, seed: 27);
        var data = Enumerable.Range(0, 2).Select(k => WritePixels(dir.File($"x{k}.npy"), 3, 50 + k)).ToArray();
        var recorder = new Recorder();
        Merger.Merge(new MergeRequest
        {
            Method = "fisher", Base = Fixtures.Onnx(Model), Models = tasks, Data = data, Private = @"^head\.",
            Set = new Dictionary<string, string> { ["samples"] = "3" }, Out = dir.File("out"), Progress = recorder, Threads = 2,
        });
        var fisher = recorder.Reports.Where(r => r.Pass == "fisher").ToList();
        Assert.That(fisher.Select(r => r.Detail).Distinct(), Is.EqualTo(new[] { "task 1/2", "task 2/2" }));
        Assert.That(fisher.Select(r => r.TensorsDone), Is.Ordered);
        Assert.That(fisher[^1].TensorsDone, Is.EqualTo(6));
        Assert.That(fisher.All(r => r.TensorsTotal == 6), Is.True);
        int firstMerge = recorder.Reports.FindIndex(r => r.Pass == "merge");
        Assert.That(firstMerge, Is.GreaterThan(recorder.Reports.FindLastIndex(r => r.Pass == "fisher")), "the data stage runs before the merge pass");
    }

    [Test]
    public void MoreSamplesThanTheDataHoldsIsBadInput()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 2, seed: 24);
        string[] data = [WritePixels(dir.File("x0.npy"), 4, 1), WritePixels(dir.File("x1.npy"), 2, 2)];
        var e = Assert.Throws<BadInputException>(() => Run(tasks, data, dir.File("out"), samples: 3))!;
        Assert.That(e.Message, Does.Contain("x1.npy").And.Contain("samples=3").And.Not.Contain("\n"));
        Assert.That(Directory.Exists(dir.File("out")), Is.False, "nothing written");
    }

    [TestCase("0"), TestCase("-3"), TestCase("many")]
    public void BadSampleCountIsRejected(string samples)
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 1, seed: 25);
        var e = Assert.Throws<BadInputException>(() => Merger.Merge(new MergeRequest
        {
            Method = "fisher", Base = Fixtures.Onnx(Model), Models = tasks, Data = [WritePixels(dir.File("x.npy"), 2, 1)],
            Set = new Dictionary<string, string> { ["samples"] = samples }, Out = dir.File("out.onnx"),
        }))!;
        Assert.That(e.Message, Does.Contain("samples=" + samples).And.Not.Contain("\n"));
    }

    [Test]
    public void DataThatDoesNotFitTheModelIsBadInput()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx(Model), dir.Path, 1, seed: 26);
        using (var t = Tensor.Allocate("x", DType.F32, [3, 5])) NpyFile.Write(dir.File("bad.npy"), t);
        var e = Assert.Throws<BadInputException>(() => Run(tasks, [dir.File("bad.npy")], dir.File("out"), samples: 2))!;
        Assert.That(e.Message, Does.Contain("bad.npy"));
    }
}
