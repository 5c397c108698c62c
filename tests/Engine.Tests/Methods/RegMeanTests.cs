using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Methods.Cat;
using Amalgam.Engine.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>`--method regmean` on <see cref="CatNet"/> against a float64 solve written here.</summary>
public class RegMeanTests
{
    private static readonly (string Name, int DIn, int DOut, bool Transposed, Func<CatNet.Activations, double[,]> X)[] Linear =
    [
        ("W1", 6, 5, false, a => a.A), ("W2", 5, 4, true, a => a.Y1), ("W3", 4, 3, true, a => a.Y2),
    ];

    private sealed record Case(string Dir, string Base, string[] Models, string[] Data, Dictionary<string, double[]> Theta0,
        List<Dictionary<string, double[]>> Thetas, List<double[]> Xs);

    private static Case Make(string dir, int k, int seed, int n, Func<string, bool>? fixedParam = null, Action<Dictionary<string, double[]>>? edit = null)
    {
        var rng = new Random(seed);
        var theta0 = CatNet.RandomParams(rng);
        edit?.Invoke(theta0);
        CatNet.Save(Path.Combine(dir, "base.onnx"), 17, theta0);
        var models = new string[k];
        var data = new string[k];
        var xs = new List<double[]>();
        for (int t = 0; t < k; t++)
        {
            var p = CatNet.RandomParams(rng, theta0);
            foreach (var name in p.Keys.Where(fixedParam ?? (_ => false)).ToList()) p[name] = theta0[name];
            edit?.Invoke(p);
            models[t] = Path.Combine(dir, $"task{t}.onnx");
            data[t] = Path.Combine(dir, $"x{t}.npy");
            CatNet.Save(models[t], 17, p);
            xs.Add(CatNet.SaveData(data[t], n, rng));
        }
        return new Case(dir, Path.Combine(dir, "base.onnx"), models, data, TestModels.ReadOnnx(Path.Combine(dir, "base.onnx")),
            models.Select(TestModels.ReadOnnx).ToList(), xs);
    }

    private static (Dictionary<string, double[]> Merged, JsonElement Report) Run(Case c, int samples, string alpha = "0.95", string? data0 = null, int threads = 0)
    {
        string @out = Path.Combine(c.Dir, $"m{Guid.NewGuid():N}.onnx");
        var result = Merger.Merge(new MergeRequest
        {
            Method = "regmean", Base = c.Base, Models = c.Models, Data = data0 is null ? c.Data : c.Data.Select(_ => data0).ToArray(), Out = @out,
            Set = new Dictionary<string, string> { ["samples"] = $"{samples}", ["alpha"] = alpha, ["batch_size"] = "3" }, Threads = threads,
        });
        return (TestModels.ReadOnnx(@out), JsonDocument.Parse(result.MethodResultsJson).RootElement);
    }

    /// <summary>(sum_k G_k')^-1 sum_k G_k' W_k in f64, in the weight's stored layout.</summary>
    private static double[] Solve(Case c, int samples, double alpha, string name, int dIn, int dOut, bool transposed,
        Func<CatNet.Activations, double[,]> pick, IReadOnlyList<double[]>? xs = null)
    {
        var m = Matrix<double>.Build;
        var a = m.Dense(dIn, dIn);
        var r = m.Dense(dIn, dOut);
        for (int k = 0; k < c.Thetas.Count; k++)
        {
            var g = m.DenseOfArray(CatNet.Gram(pick(CatNet.Forward(c.Thetas[k], (xs ?? c.Xs)[k], samples))));
            var gp = alpha * g + (1 - alpha) * m.DenseOfDiagonalVector(g.Diagonal());
            var w = m.Dense(dIn, dOut, (d, o) => transposed ? c.Thetas[k][name][o * dIn + d] : c.Thetas[k][name][d * dOut + o]);
            a += gp;
            r += gp * w;
        }
        var x = a.Solve(r);
        var stored = new double[dIn * dOut];
        for (int d = 0; d < dIn; d++)
            for (int o = 0; o < dOut; o++) stored[transposed ? o * dIn + d : d * dOut + o] = x[d, o];
        return stored;
    }

    private static void AssertClose(double[] actual, double[] expected, double tolerance, string what)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(tolerance * scale), $"{what}[{i}]");
    }

    [Test]
    public void TwoTasksMatchAnF64Solve()
    {
        using var dir = Fixtures.NewTempDir();
        var c = Make(dir.Path, 2, 11, 8);
        var (merged, report) = Run(c, 7);
        foreach (var (name, dIn, dOut, transposed, pick) in Linear)
            AssertClose(merged[name], Solve(c, 7, 0.95, name, dIn, dOut, transposed, pick), 1e-4, name);
        foreach (string name in new[] { "pos", "g1", "b1", "c1", "c2" })
            AssertClose(merged[name], c.Thetas[0][name].Zip(c.Thetas[1][name], (x, y) => (x + y) / 2).ToArray(), 1e-6, name);
        Assert.That(report.GetProperty("linear_weights").GetInt32(), Is.EqualTo(3));
        Assert.That(report.GetProperty("least_squares_fallbacks").GetArrayLength(), Is.Zero);
    }

    [Test]
    public void OneTaskGivesBackItsWeights()
    {
        using var dir = Fixtures.NewTempDir();
        var c = Make(dir.Path, 1, 12, 4);
        var (merged, _) = Run(c, 4);
        foreach (var (name, values) in c.Thetas[0])
            AssertClose(merged[name], values, 1e-4, name);
    }

    [Test]
    public void IdenticalGramMatricesGiveThePlainAverage()
    {
        using var dir = Fixtures.NewTempDir();
        // Same data and the same pos, g1, b1 in every task: W1's input, so its Gram matrix, is the same for all.
        var c = Make(dir.Path, 3, 13, 5, name => name is "pos" or "g1" or "b1");
        var (merged, _) = Run(c, 5, data0: c.Data[0]);
        var mean = Enumerable.Range(0, c.Thetas[0]["W1"].Length).Select(i => c.Thetas.Average(t => t["W1"][i])).ToArray();
        AssertClose(merged["W1"], mean, 1e-4, "W1");
    }

    [Test]
    public void ANonPositiveDefiniteGramFallsBackToLeastSquaresAndSaysSo()
    {
        using var dir = Fixtures.NewTempDir();
        // g1[0] = b1[0] = 0 everywhere: the first input column of W1 is always zero, so G has a zero row.
        var c = Make(dir.Path, 2, 14, 6, name => name is "g1" or "b1", p => { p["g1"][0] = 0; p["b1"][0] = 0; });
        var (merged, report) = Run(c, 6);
        var fallbacks = report.GetProperty("least_squares_fallbacks").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.That(fallbacks, Has.Count.EqualTo(1));
        Assert.That(fallbacks[0], Does.StartWith("W1:"));
        // Minimum-norm least squares: the unused input row is 0, the rest solves the reduced system.
        var m = Matrix<double>.Build;
        var a = m.Dense(5, 5);
        var r = m.Dense(5, 5);
        foreach (var (theta, x) in c.Thetas.Zip(c.Xs))
        {
            var g = m.DenseOfArray(CatNet.Gram(CatNet.Forward(theta, x, 6).A)).SubMatrix(1, 5, 1, 5);
            var gp = 0.95 * g + 0.05 * m.DenseOfDiagonalVector(g.Diagonal());
            a += gp;
            r += gp * m.Dense(5, 5, (d, o) => theta["W1"][(d + 1) * 5 + o]);
        }
        var solved = a.Solve(r);
        var expected = new double[30];
        for (int d = 1; d < 6; d++)
            for (int o = 0; o < 5; o++) expected[d * 5 + o] = solved[d - 1, o];
        AssertClose(merged["W1"], expected, 1e-4, "W1");
    }
}
