using Amalgam.Engine.Methods.Fisher;
using Amalgam.Engine.Tests.Support;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Methods.FisherMethod;

/// <summary>
/// The diagonal Fisher of <see cref="FisherEstimator"/> (ONNX Runtime, f32, our backward graph)
/// against an independent float64 reference: central finite differences of log p(y_hat | x)
/// computed by a C# double forward of the same tiny Gemm-Tanh-Gemm model, y_hat fixed to the
/// unperturbed argmax, squared per sample and averaged over the first `samples` inputs.
/// </summary>
public sealed class FisherEstimatorTests
{
    /// <summary>F_ref[name][i] = mean_s (d log p(y_hat_s | x_s) / d theta_i)^2 by central differences in f64.</summary>
    internal static Dictionary<string, double[]> FiniteDifferenceFisher(TanhMlp mlp, double[][] x, int samples)
    {
        var p = mlp.P.ToDictionary(kv => kv.Key, kv => (double[])kv.Value.Clone());
        var result = p.ToDictionary(kv => kv.Key, kv => new double[kv.Value.Length]);
        for (int s = 0; s < samples; s++)
        {
            int yHat = TanhMlp.ArgMax(TanhMlp.Logits(p, x[s]));
            foreach (var (name, values) in p)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    double keep = values[i], h = 1e-5;
                    values[i] = keep + h;
                    double up = TanhMlp.LogProb(TanhMlp.Logits(p, x[s]), yHat);
                    values[i] = keep - h;
                    double down = TanhMlp.LogProb(TanhMlp.Logits(p, x[s]), yHat);
                    values[i] = keep;
                    double g = (up - down) / (2 * h);
                    result[name][i] += g * g / samples;
                }
            }
        }
        return result;
    }

    [TestCase(1, 7), TestCase(2, 7), TestCase(3, 12)]
    public void MatchesFiniteDifferencesOfTheFloat64Forward(int workers, int samples)
    {
        using var dir = Fixtures.NewTempDir();
        var mlp = new TanhMlp(seed: 3);
        mlp.Save(dir.File("m.onnx"));
        var x = TanhMlp.Inputs(12, seed: 4, dir.File("x.npy"));
        var model = OnnxModel.Load(dir.File("m.onnx"));
        using var data = SampleData.Load(model, dir.File("x.npy"));
        var fisher = FisherEstimator.Compute(model, data.Inputs, TanhMlp.Names, samples, workers);
        try
        {
            var reference = FiniteDifferenceFisher(mlp, x, samples);
            double max = reference.Values.SelectMany(v => v).Max();
            Assert.That(max, Is.GreaterThan(1e-3), "a Fisher worth comparing");
            foreach (var name in TanhMlp.Names)
            {
                var got = fisher[name].Read<float>();
                Assert.That(fisher[name].Shape.ToArray(), Is.EqualTo(TanhMlp.ShapesOf[Array.IndexOf(TanhMlp.Names, name)]));
                for (int i = 0; i < got.Length; i++)
                    Assert.That(got[i], Is.EqualTo(reference[name][i]).Within(1e-4 * reference[name][i] + 1e-6 * max), $"{name}[{i}]");
            }
        }
        finally
        {
            foreach (var t in fisher.Values) t.Dispose();
        }
    }

    [Test]
    public void UsesTheFirstSamplesOnly()
    {
        using var dir = Fixtures.NewTempDir();
        var mlp = new TanhMlp(seed: 8);
        mlp.Save(dir.File("m.onnx"));
        var x = TanhMlp.Inputs(10, seed: 9, dir.File("x.npy"));
        var model = OnnxModel.Load(dir.File("m.onnx"));
        using var data = SampleData.Load(model, dir.File("x.npy"));
        var four = FisherEstimator.Compute(model, data.Inputs, ["b2"], 4);
        var all = FisherEstimator.Compute(model, data.Inputs, ["b2"], 10);
        try
        {
            var ref4 = FiniteDifferenceFisher(mlp, x, 4)["b2"];
            var ref10 = FiniteDifferenceFisher(mlp, x, 10)["b2"];
            Assert.That(ref4.Zip(ref10).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "the two sample sets differ");
            var g4 = four["b2"].Read<float>();
            var g10 = all["b2"].Read<float>();
            for (int i = 0; i < ref4.Length; i++)
            {
                Assert.That(g4[i], Is.EqualTo(ref4[i]).Within(1e-4 * ref4[i] + 1e-7));
                Assert.That(g10[i], Is.EqualTo(ref10[i]).Within(1e-4 * ref10[i] + 1e-7));
            }
        }
        finally
        {
            foreach (var t in four.Values.Concat(all.Values)) t.Dispose();
        }
    }

    [Test]
    public void WorkerCountDoesNotChangeTheBits()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        var parameters = model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
        using var pixels = Tensor.Allocate("pixel_values", DType.F32, [6, 3, 28, 28]);
        var w = pixels.Write<float>();
        var rng = new Random(2);
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        var inputs = new Dictionary<string, Tensor> { ["pixel_values"] = pixels };
        var one = FisherEstimator.Compute(model, inputs, parameters, 6, workers: 1);
        var two = FisherEstimator.Compute(model, inputs, parameters, 6, workers: 2);
        try
        {
            foreach (var p in parameters)
                Assert.That(two[p].Read<byte>().ToArray(), Is.EqualTo(one[p].Read<byte>().ToArray()), p);
        }
        finally
        {
            foreach (var t in one.Values.Concat(two.Values)) t.Dispose();
        }
    }
    [Test]
    public void ReusedSessionsGiveEachModelItsOwnFisher()
    {
        using var dir = Fixtures.NewTempDir();
        var tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx("clip_tiny_op17"), dir.Path, 2, seed: 5);
        var a = OnnxModel.Load(tasks[0]);
        var b = OnnxModel.Load(tasks[1]);
        var shared = a.ListInitializers().Where(i => !i.Name.StartsWith("head.", StringComparison.Ordinal)).Select(i => i.Name).ToList();
        string[] heads = ["head.weight", "head.bias"];
        using var pixels = Tensor.Allocate("pixel_values", DType.F32, [3, 3, 28, 28]);
        var w = pixels.Write<float>();
        for (int i = 0; i < w.Length; i++) w[i] = MathF.Cos(i * 0.05f);
        var inputs = new Dictionary<string, Tensor> { ["pixel_values"] = pixels };
        var results = new List<Dictionary<string, Tensor>>();
        try
        {
            using (var reused = new FisherEstimator(a, shared, heads))
            {
                results.Add(reused.Compute(a, inputs, 3, workers: 2));
                results.Add(reused.Compute(b, inputs, 3, workers: 2));
                results.Add(reused.Compute(a, inputs, 3, workers: 1));
            }
            using (var fresh = new FisherEstimator(a, shared, heads)) results.Add(fresh.Compute(b, inputs, 3, workers: 1));
            foreach (var p in shared)
            {
                Assert.That(results[2][p].Read<byte>().ToArray(), Is.EqualTo(results[0][p].Read<byte>().ToArray()), $"A again: {p}");
                Assert.That(results[3][p].Read<byte>().ToArray(), Is.EqualTo(results[1][p].Read<byte>().ToArray()), $"B fresh: {p}");
            }
            Assert.That(results[1]["proj"].Read<byte>().ToArray(), Is.Not.EqualTo(results[0]["proj"].Read<byte>().ToArray()), "A and B differ");
        }
        finally
        {
            foreach (var t in results.SelectMany(r => r.Values)) t.Dispose();
        }
    }
}
