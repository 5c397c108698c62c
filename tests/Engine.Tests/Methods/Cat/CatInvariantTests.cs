using Amalgam.Engine.LayerInputs;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.Cat;
using Amalgam.Kernels.Blas;

namespace Amalgam.Engine.Tests.Methods.Cat;

/// <summary>Properties of CAT's pieces that hold for any input: orthonormal bases, exact projections, restored norms, exact masks.</summary>
public class CatInvariantTests
{
    private static float[] Random(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static (List<float[]> Tasks, List<float[]> Rows) Case(int seed, int k, int dIn, int dOut, int n)
    {
        var rng = new Random(seed);
        return (Enumerable.Range(0, k).Select(_ => Random(rng, dIn * dOut)).ToList(), Enumerable.Range(0, k).Select(_ => Random(rng, n * dIn)).ToList());
    }

    [TestCase(false)]
    [TestCase(true)]
    public void BasesAreOrthonormalAndProjectionsAnnihilateThem(bool transposed)
    {
        const int k = 4, dIn = 9, dOut = 7;
        var (tasks, rows) = Case(transposed ? 2 : 1, k, dIn, dOut, 5);
        using var _ = BlasThreadPin.One();
        var bases = CatBases.Compute(tasks, transposed, dIn, dOut, rows, 0.5, new BasisRule(3, false, 0));
        foreach (var b in bases)
        {
            Assert.That(b.Rank, Is.InRange(1, 3));
            for (int a = 0; a < b.Rank; a++)
                for (int c = 0; c < b.Rank; c++)
                {
                    double dot = 0;
                    for (int i = 0; i < dOut; i++) dot += (double)b.Rows[a * dOut + i] * b.Rows[c * dOut + i];
                    Assert.That(dot, Is.EqualTo(a == c ? 1 : 0).Within(1e-5), $"B rows {a}, {c}");
                }
        }
        for (int j = 0; j < k; j++)
        {
            var b = bases[(j + 1) % k];
            var t = (float[])tasks[j].Clone();
            CatProjection.ProjectOut(t, transposed, dIn, dOut, b);
            // T B^T = 0 (d_in x r), or for the stored transpose S = T^T: B S = 0.
            double scale = CatProjection.Norm(tasks[j]);
            for (int r = 0; r < b.Rank; r++)
                for (int d = 0; d < dIn; d++)
                {
                    double dot = 0;
                    for (int o = 0; o < dOut; o++)
                        dot += (double)b.Rows[r * dOut + o] * (transposed ? t[o * dIn + d] : t[d * dOut + o]);
                    Assert.That(Math.Abs(dot), Is.LessThan(1e-5 * scale));
                }
            var restored = (float[])tasks[j].Clone();
            var removed = CatProjection.Apply(restored, transposed, dIn, dOut, j, bases);
            Assert.That(CatProjection.Norm(restored), Is.EqualTo(scale).Within(1e-5 * scale), "norm restored");
            Assert.That(removed[j], Is.Zero);
            Assert.That(removed.Where((_, i) => i != j), Has.All.InRange(0.0, 1.0).And.Some.GreaterThan(0.0));
        }
    }

    [Test]
    public void ShiftMasksZeroExactlyTheChosenDimsFromTheUntrimmedVectors()
    {
        var rng = new Random(3);
        var t = Enumerable.Range(0, 3).Select(_ => Random(rng, 10)).ToArray();
        t[0][4] = t[0][7] = 5f; // a tie: the lower index wins
        var original = t.Select(v => (float[])v.Clone()).ToArray();
        var chosen = CatMasks.Shift(t, 1);
        Assert.That(chosen[0], Is.EqualTo(new[] { 4 }));
        for (int i = 0; i < 3; i++)
        {
            var top = Enumerable.Range(0, 10).OrderByDescending(d => original[i][d] * original[i][d]).ThenBy(d => d).First();
            Assert.That(chosen[i], Is.EqualTo(new[] { top }));
        }
        for (int j = 0; j < 3; j++)
        {
            var masked = Enumerable.Range(0, 3).Where(i => i != j).SelectMany(i => chosen[i]).ToHashSet();
            for (int d = 0; d < 10; d++)
                Assert.That(t[j][d], Is.EqualTo(masked.Contains(d) ? 0f : original[j][d]), $"T_{j}[{d}]");
        }
    }

    [Test]
    public void LayerNormMasksZeroTheChosenDimsAndRestoreTheNorm()
    {
        var rng = new Random(4);
        var t = Enumerable.Range(0, 3).Select(_ => Random(rng, 8)).ToArray();
        var m = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 8).Select(_ => rng.NextDouble()).ToArray()).ToArray();
        var chosen = CatMasks.LayerNormScale(t, m, 0.5, 2);
        Assert.That(chosen.Select(c => c.Length), Has.All.EqualTo(2));
        // The last mask that touched T_j set these dims to zero; later masks only rescale.
        for (int j = 0; j < 3; j++)
        {
            var masked = Enumerable.Range(0, 3).Where(k => k != j).SelectMany(k => chosen[k]).ToHashSet();
            for (int d = 0; d < 8; d++)
                if (masked.Contains(d)) Assert.That(t[j][d], Is.EqualTo(0f), $"T_{j}[{d}]");
                else Assert.That(t[j][d], Is.Not.EqualTo(0f));
        }
    }

    [Test]
    public void WithOneTaskCatIsTaskArithmeticWithLambdaAlpha()
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(5);
        var theta0 = CatNet.RandomParams(rng);
        CatNet.Save(dir.File("base.onnx"), 17, theta0);
        CatNet.Save(dir.File("t.onnx"), 17, CatNet.RandomParams(rng, theta0));
        CatNet.SaveData(dir.File("x.npy"), 3, rng);
        Merger.Merge(new MergeRequest { Method = "cat", Base = dir.File("base.onnx"), Models = [dir.File("t.onnx")], Data = [dir.File("x.npy")], Out = dir.File("cat.onnx") });
        Merger.Merge(new MergeRequest { Method = "task_arithmetic", Base = dir.File("base.onnx"), Models = [dir.File("t.onnx")], Out = dir.File("ta.onnx"),
            Set = new Dictionary<string, string> { ["lambda"] = "0.4" } });
        Assert.That(File.ReadAllBytes(dir.File("cat.onnx")), Is.EqualTo(File.ReadAllBytes(dir.File("ta.onnx"))));
    }
}
