using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Amalgam.Engine.Tests.Methods.Cat;

/// <summary>
/// `--method cat` end to end on <see cref="CatNet"/> against a float64 reference of the CAT formulas
/// written here (hand forward pass for the features, MathNet's symmetric EVD for the bases).
/// </summary>
public class CatReferenceTests
{
    private const double Alpha = 0.4, LambdaLin = 0.5, LambdaLn = 10; // a small lambda_lin so most bases are full
    private const int C = 2, NLn = 2, NBias = 1, Samples = 2, K = 3;

    [TestCase(14, "rank")]
    [TestCase(17, "rank")]
    [TestCase(17, "positive")]
    [TestCase(17, "energy")]
    public void MergedWeightsMatchAnF64Reference(int opset, string rule)
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(100 + opset);
        var theta0 = CatNet.RandomParams(rng);
        CatNet.Save(dir.File("base.onnx"), opset, theta0);
        var thetas = new List<Dictionary<string, double[]>>();
        var xs = new List<double[]>();
        var models = new string[K];
        var data = new string[K];
        for (int k = 0; k < K; k++)
        {
            thetas.Add(CatNet.RandomParams(rng, theta0));
            models[k] = dir.File($"task{k}.onnx");
            data[k] = dir.File($"x{k}.npy");
            CatNet.Save(models[k], opset, thetas[k]);
            xs.Add(CatNet.SaveData(data[k], 4, rng));
        }
        // The f64 reference starts from the f32 values the files hold.
        theta0 = TestModels.ReadOnnx(dir.File("base.onnx"));
        thetas = models.Select(TestModels.ReadOnnx).ToList();

        var result = Merger.Merge(new MergeRequest
        {
            Method = "cat", Base = dir.File("base.onnx"), Models = models, Data = data, Out = dir.File("merged.onnx"),
            Set = new Dictionary<string, string>
            {
                ["c"] = rule == "positive" ? "positive" : $"{C}", ["energy"] = rule == "energy" ? "0.9" : "0",
                ["n_ln"] = $"{NLn}", ["n_bias"] = $"{NBias}", ["lambda_lin"] = "0.5",
            },
        });
        var merged = TestModels.ReadOnnx(dir.File("merged.onnx"));
        var reference = Reference(theta0, thetas, xs, rule);
        foreach (var (name, _) in CatNet.Params)
        {
            double scale = reference[name].Max(Math.Abs);
            for (int i = 0; i < reference[name].Length; i++)
                Assert.That(merged[name][i], Is.EqualTo(reference[name][i]).Within(1e-5 * scale), $"{name}[{i}]");
        }
        var report = JsonDocument.Parse(result.MethodResultsJson).RootElement;
        // The case exercises projections: some bases are not empty.
        Assert.That(report.GetProperty("linear").EnumerateArray().Sum(e => e.GetProperty("rank").EnumerateArray().Sum(r => r.GetInt32())), Is.GreaterThanOrEqualTo(12));
        Assert.That(report.GetProperty("degraded_to_task_arithmetic").GetBoolean(), Is.False);
        Assert.That(report.GetProperty("linear").EnumerateArray().Select(e => e.GetProperty("name").GetString()), Is.EqualTo(new[] { "W1", "W2", "W3" }));
        foreach (var e in report.GetProperty("linear").EnumerateArray())
        {
            if (rule == "rank") Assert.That(e.GetProperty("rank").EnumerateArray().Select(r => r.GetInt32()), Has.All.InRange(0, C)); // only positive eigenvalues count
            Assert.That(e.GetProperty("norm_removed").EnumerateArray().Select(r => r.GetDouble()), Has.All.InRange(0.0, 1.0));
        }
    }

    /// <summary>CAT in f64, straight from the formulas.</summary>
    private static Dictionary<string, double[]> Reference(Dictionary<string, double[]> theta0, List<Dictionary<string, double[]>> thetas, List<double[]> xs, string rule)
    {
        var m = Matrix<double>.Build;
        var tau = thetas.Select(t => t.ToDictionary(kv => kv.Key, kv => kv.Value.Zip(theta0[kv.Key], (a, b) => a - b).ToArray())).ToList();
        var acts = Enumerable.Range(0, K).Select(k =>
        {
            var pk = theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => v + Alpha * tau[k][kv.Key][i]).ToArray());
            return CatNet.Forward(pk, xs[k], Samples);
        }).ToList();
        var trimmed = tau.Select(t => t.ToDictionary(kv => kv.Key, kv => (double[])kv.Value.Clone())).ToList();

        // Linear weights: effective T (d_in x d_out) and the inputs X.
        var linear = new (string Name, int DIn, int DOut, bool Transposed, Func<CatNet.Activations, double[,]> X)[]
        {
            ("W1", 6, 5, false, a => a.A), ("W2", 5, 4, true, a => a.Y1), ("W3", 4, 3, true, a => a.Y2),
        };
        foreach (var (name, dIn, dOut, transposed, pick) in linear)
        {
            var t = tau.Select(tk => m.Dense(dIn, dOut, (d, o) => transposed ? tk[name][o * dIn + d] : tk[name][d * dOut + o])).ToList();
            var gx = acts.Select(a => m.DenseOfArray(CatNet.Gram(pick(a)))).ToList();
            var bases = new List<Matrix<double>>();
            for (int k = 0; k < K; k++)
            {
                var g = m.Dense(dOut, dOut);
                for (int i = 0; i < K; i++)
                    if (i != k) g += t[i].Transpose() * (gx[k] - LambdaLin * gx[i]) * t[i];
                g = (g + g.Transpose()) / 2;
                var evd = g.Evd(Symmetricity.Symmetric);
                var order = Enumerable.Range(0, dOut).Select(j => (Value: evd.EigenValues[j].Real, j))
                    .OrderByDescending(e => e.Value).Where(e => e.Value > 0).ToList();
                if (rule == "rank") order = order.Take(C).ToList();
                if (rule == "energy" && order.Count > 0)
                {
                    // The fewest top eigenvectors holding 90% of the sum of squared positive eigenvalues.
                    double total = order.Sum(e => e.Value * e.Value), sum = 0;
                    int r = 0;
                    while (sum < 0.9 * total) sum += order[r].Value * order[r++].Value;
                    order = order.Take(r).ToList();
                }
                bases.Add(m.Dense(dOut, order.Count, (r, c) => evd.EigenVectors[r, order[c].j]));
            }
            for (int j = 0; j < K; j++)
            {
                var tj = t[j];
                for (int k = 0; k < K; k++)
                {
                    if (k == j) continue;
                    double before = tj.FrobeniusNorm();
                    tj = tj - tj * bases[k] * bases[k].Transpose();
                    double after = tj.FrobeniusNorm();
                    // A basis spanning T_j's whole row space removes it (nothing left to rescale).
                    tj = after <= 1e-5 * before ? m.Dense(dIn, dOut) : tj * (before / after);
                }
                for (int d = 0; d < dIn; d++)
                    for (int o = 0; o < dOut; o++)
                        trimmed[j][name][transposed ? o * dIn + d : d * dOut + o] = tj[d, o];
            }
        }

        // LayerNorm scale g1.
        var ms = acts.Select(a => Enumerable.Range(0, 6).Select(d => Enumerable.Range(0, Samples * 3).Average(r => a.XHat[r, d] * a.XHat[r, d])).ToArray()).ToList();
        var s = Enumerable.Range(0, K).Select(k => Enumerable.Range(0, 6).Select(d => Enumerable.Range(0, K).Where(j => j != k)
            .Sum(j => tau[j]["g1"][d] * tau[j]["g1"][d] * (ms[k][d] - LambdaLn * ms[j][d]))).ToArray()).ToList();
        for (int k = 0; k < K; k++)
        {
            var top = Enumerable.Range(0, 6).OrderByDescending(d => s[k][d]).ThenBy(d => d).Take(NLn).ToList();
            for (int j = 0; j < K; j++)
            {
                if (j == k) continue;
                var v = trimmed[j]["g1"];
                double before = Math.Sqrt(v.Sum(x => x * x));
                foreach (int d in top) v[d] = 0;
                double after = Math.Sqrt(v.Sum(x => x * x));
                for (int d = 0; d < 6; d++) v[d] *= before / after;
            }
        }

        // Shifts.
        foreach (string name in new[] { "b1", "c1", "c2" })
        {
            var masks = Enumerable.Range(0, K).Select(i => Enumerable.Range(0, tau[i][name].Length)
                .OrderByDescending(d => tau[i][name][d] * tau[i][name][d]).ThenBy(d => d).Take(NBias).ToList()).ToList();
            for (int i = 0; i < K; i++)
                for (int j = 0; j < K; j++)
                    if (j != i) foreach (int d in masks[i]) trimmed[j][name][d] = 0;
        }

        return theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => v + Alpha * Enumerable.Range(0, K).Sum(j => trimmed[j][kv.Key][i])).ToArray());
    }
}
