using Amalgam.Engine.Analysis;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Analysis;

/// <summary>
/// <see cref="TaskVectorAnalysis"/> against the formulas written here in float64 over what the files
/// store: ||tau_k|| / ||theta0||, cos(tau_i, tau_j) and the sign-conflict rate, per tensor and over
/// all shared tensors as one vector; on random safetensors checkpoints of mixed dtypes and on ONNX
/// models whose heads have their own class counts (left out with --private). Plus hand cases (equal,
/// opposite and zero task vectors), thread independence and bad input.
/// </summary>
public sealed class TaskVectorAnalysisTests
{
    private const double Tolerance = 1e-6; // tau is formed in f32, the sums in f64

    private sealed record Reference(long Elements, double BaseNorm, double[] Norms, double[,] Cosine, double[,] Conflict);

    private static Reference Formulas(IReadOnlyList<double[]> theta0, IReadOnlyList<IReadOnlyList<double[]>> thetas)
    {
        int K = thetas.Count;
        var tau = new double[K][];
        for (int k = 0; k < K; k++) tau[k] = [.. thetas[k].SelectMany((t, i) => t.Select((v, d) => v - theta0[i][d]))];
        double[] flat0 = [.. theta0.SelectMany(t => t)];
        double[] norms = [.. tau.Select(t => Math.Sqrt(t.Sum(v => v * v)))];
        var cos = new double[K, K];
        var conflict = new double[K, K];
        for (int i = 0; i < K; i++)
            for (int j = 0; j < K; j++)
            {
                double dot = 0;
                long both = 0, differ = 0;
                for (int d = 0; d < flat0.Length; d++)
                {
                    dot += tau[i][d] * tau[j][d];
                    if (tau[i][d] == 0 || tau[j][d] == 0) continue;
                    both++;
                    if (Math.Sign(tau[i][d]) != Math.Sign(tau[j][d])) differ++;
                }
                cos[i, j] = norms[i] * norms[j] > 0 ? dot / (norms[i] * norms[j]) : double.NaN;
                conflict[i, j] = i == j ? 0 : both > 0 ? (double)differ / both : double.NaN;
            }
        return new Reference(flat0.Length, Math.Sqrt(flat0.Sum(v => v * v)), norms, cos, conflict);
    }

    private static void AssertMatches(LayerAnalysis got, Reference want, string what)
    {
        int K = want.Norms.Length;
        Assert.That(got.Elements, Is.EqualTo(want.Elements), what);
        Assert.That(got.BaseNorm, Is.EqualTo(want.BaseNorm).Within(Tolerance).Percent, what);
        for (int i = 0; i < K; i++)
        {
            Assert.That(got.TaskNorms[i], Is.EqualTo(want.Norms[i]).Within(Tolerance * want.Norms[i] + 1e-12), $"{what} ||tau_{i}||");
            Assert.That(got.RelativeNorm(i), Is.EqualTo(want.Norms[i] / want.BaseNorm).Within(Tolerance * want.Norms[i] / want.BaseNorm + 1e-12), $"{what} relative norm {i}");
            for (int j = 0; j < K; j++)
            {
                Assert.That(got.Cosine[i][j], Is.EqualTo(want.Cosine[i, j]).Within(Tolerance), $"{what} cos({i},{j})");
                // Signs of an f32 difference of f32 values are exact, so the counts are too.
                Assert.That(got.SignConflict[i][j], Is.EqualTo(want.Conflict[i, j]), $"{what} conflict({i},{j})");
            }
        }
    }

    [Test]
    public void RandomSafetensorsOfMixedDTypesMatchTheFormulas()
    {
        using var dir = Fixtures.NewTempDir();
        var (basePath, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 11);
        var a = TaskVectorAnalysis.Run(new AnalysisRequest { Base = basePath, Models = tasks });
        var theta0 = TestModels.ReadSafetensors(basePath);
        var thetas = tasks.Select(TestModels.ReadSafetensors).ToArray();

        Assert.That(a.Tasks, Has.Count.EqualTo(3));
        Assert.That(a.Layers.Select(l => l.Name).Order(StringComparer.Ordinal), Is.EqualTo(TestModels.Mixed.Select(s => s.Name).Order(StringComparer.Ordinal)));
        foreach (var layer in a.Layers)
            AssertMatches(layer, Formulas([theta0[layer.Name]], [.. thetas.Select(t => (IReadOnlyList<double[]>)[t[layer.Name]])]), layer.Name);
        string[] names = [.. a.Layers.Select(l => l.Name)];
        AssertMatches(a.Overall, Formulas([.. names.Select(n => theta0[n])], [.. thetas.Select(t => (IReadOnlyList<double[]>)[.. names.Select(n => t[n])])]), "overall");
        Assert.That(a.Skipped, Is.Empty);
    }

    [Test]
    public void OnnxModelsWithOwnHeadsLeaveTheHeadsOut()
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(5);
        var theta0 = HeadedMlp.RandomShared(rng);
        new HeadedMlp(null, theta0).Save(dir.File("base.onnx"));
        int[] classes = [2, 7, 4];
        var thetas = new Dictionary<string, double[]>[classes.Length];
        var paths = new string[classes.Length];
        for (int k = 0; k < classes.Length; k++)
        {
            var delta = HeadedMlp.RandomShared(rng, 0.2);
            // Half of l2.weight left at the base: zeros in tau, so "non-zero in both" differs from "all".
            thetas[k] = theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => kv.Key == "l2.weight" && i % 2 == k % 2 ? v : (double)(float)(v + delta[kv.Key][i])).ToArray());
            paths[k] = dir.File($"task{k}.onnx");
            new HeadedMlp(classes[k], thetas[k], HeadedMlp.Random(rng, classes[k] * HeadedMlp.Hidden, 1), HeadedMlp.Random(rng, classes[k], 1)).Save(paths[k]);
        }

        var a = TaskVectorAnalysis.Run(new AnalysisRequest { Base = dir.File("base.onnx"), Models = paths, Private = @"^head\." });
        Assert.That(a.Tasks, Is.EqualTo(new[] { "task0", "task1", "task2" }));
        Assert.That(a.Layers.Select(l => l.Name), Is.EquivalentTo(HeadedMlp.SharedNames));
        Assert.That(a.Skipped, Is.EqualTo(new[] { "head.bias", "head.weight" }));
        foreach (var layer in a.Layers)
            AssertMatches(layer, Formulas([theta0[layer.Name]], [.. thetas.Select(t => (IReadOnlyList<double[]>)[t[layer.Name]])]), layer.Name);
        string[] names = [.. a.Layers.Select(l => l.Name)];
        AssertMatches(a.Overall, Formulas([.. names.Select(n => theta0[n])], [.. thetas.Select(t => (IReadOnlyList<double[]>)[.. names.Select(n => t[n])])]), "overall");
        var l2 = a.Layers.Single(l => l.Name == "l2.weight");
        Assert.That(l2.SignConflict[0][1], Is.NaN, "tasks 0 and 1 changed disjoint halves of l2.weight: no entry non-zero in both");
    }

    [Test]
    public void HandCasesEqualOppositeAndZeroTaskVectors()
    {
        using var dir = Fixtures.NewTempDir();
        Spec[] specs = [new("w", DType.F32, 4)];
        float[] theta0 = [1, 2, 3, 4];
        float[] tau = [0.5f, -0.25f, 0, 1];
        TestModels.Write(dir.File("base.safetensors"), specs, [theta0]);
        TestModels.Write(dir.File("same1.safetensors"), specs, [[.. theta0.Select((v, i) => v + tau[i])]]);
        TestModels.Write(dir.File("same2.safetensors"), specs, [[.. theta0.Select((v, i) => v + tau[i])]]);
        TestModels.Write(dir.File("opposite.safetensors"), specs, [[.. theta0.Select((v, i) => v - tau[i])]]);
        TestModels.Write(dir.File("unchanged.safetensors"), specs, [theta0]);
        var a = TaskVectorAnalysis.Run(new AnalysisRequest
        {
            Base = dir.File("base.safetensors"),
            Models = [.. new[] { "same1", "same2", "opposite", "unchanged" }.Select(n => dir.File(n + ".safetensors"))],
        });
        var o = a.Overall;
        // ||tau|| = sqrt(0.25 + 0.0625 + 1) = 1.1456..., ||theta0|| = sqrt(30).
        Assert.That(o.TaskNorms[0], Is.EqualTo(Math.Sqrt(1.3125)).Within(1e-15));
        Assert.That(o.RelativeNorm(0), Is.EqualTo(Math.Sqrt(1.3125 / 30)).Within(1e-15));
        Assert.That(o.TaskNorms[3], Is.Zero);
        Assert.That(o.Cosine[0][1], Is.EqualTo(1).Within(1e-15));
        Assert.That(o.Cosine[0][2], Is.EqualTo(-1).Within(1e-15));
        Assert.That(o.Cosine[0][3], Is.NaN, "cosine with a zero task vector is undefined");
        Assert.That(o.SignConflict[0][1], Is.Zero);
        Assert.That(o.SignConflict[0][2], Is.EqualTo(1), "3 entries non-zero in both, all opposite");
        Assert.That(o.SignConflict[0][3], Is.NaN);
        Assert.That(LayerAnalysis.PairMean(o.SignConflict), Is.EqualTo((0 + 1 + 1) / 3.0), "pairs (0,1), (0,2), (1,2); the three with the zero task are undefined");
    }

    [Test]
    public void SameBitsAtAnyThreadCount()
    {
        using var dir = Fixtures.NewTempDir();
        var (basePath, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 4, seed: 2);
        var one = TaskVectorAnalysis.Run(new AnalysisRequest { Base = basePath, Models = tasks, Threads = 1 });
        var two = TaskVectorAnalysis.Run(new AnalysisRequest { Base = basePath, Models = tasks, Threads = 2 });
        Assert.That(AnalysisJson.Write(two, "b"), Is.EqualTo(AnalysisJson.Write(one, "b")));
    }

    [Test]
    public void MismatchedHeadsWithoutPrivateNameTheTensor()
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(1);
        var theta0 = HeadedMlp.RandomShared(rng);
        new HeadedMlp(3, theta0, HeadedMlp.Random(rng, 3 * HeadedMlp.Hidden, 1), HeadedMlp.Random(rng, 3, 1)).Save(dir.File("a.onnx"));
        new HeadedMlp(5, theta0, HeadedMlp.Random(rng, 5 * HeadedMlp.Hidden, 1), HeadedMlp.Random(rng, 5, 1)).Save(dir.File("b.onnx"));
        var e = Assert.Throws<BadInputException>(() => TaskVectorAnalysis.Run(new AnalysisRequest { Base = dir.File("a.onnx"), Models = [dir.File("b.onnx")] }));
        Assert.That(e!.Message, Does.Contain("head."));
        Assert.Throws<BadInputException>(() => TaskVectorAnalysis.Run(new AnalysisRequest { Base = dir.File("a.onnx"), Models = [] }));
    }
}
