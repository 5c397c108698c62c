using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// AdaMerging on task models whose heads have 2, 10 and 4 classes (and a base whose head has 3, or
/// none), against the algorithm written here in float64: the merged MLP's forward
/// (<see cref="HeadedMlp.Forward"/>), each task's entropy over its own classes, the gradient in the
/// coefficients by central differences of that float64 loss, and Adam (torch semantics) in float64.
/// </summary>
public sealed class OwnHeadsReferenceTests
{
    private static readonly int[] Classes = [2, 10, 4];
    private const int Samples = 24, Batch = 8, BatchesPerStep = 2, Steps = 15;
    private const float Lr = 1e-2f, Init = 0.3f;

    private sealed record Zoo(string Base, string[] Tasks, string[] Data, Dictionary<string, double[]> Theta0,
        Dictionary<string, double[]>[] Tau, HeadedMlp[] Models, double[][][] X);

    /// <summary>Base (head of <paramref name="baseClasses"/>, or headless), three tasks = base + own tau + own head, 24 inputs each.</summary>
    private static Zoo Write(string dir, int? baseClasses)
    {
        var rng = new Random(3);
        var theta0 = HeadedMlp.RandomShared(rng, 0.8);
        new HeadedMlp(baseClasses, theta0, baseClasses is int b ? HeadedMlp.Random(rng, b * HeadedMlp.Hidden, 1) : null,
            baseClasses is int b2 ? HeadedMlp.Random(rng, b2, 1) : null).Save(Path.Combine(dir, "base.onnx"));
        var taus = new Dictionary<string, double[]>[Classes.Length];
        var models = new HeadedMlp[Classes.Length];
        var x = new double[Classes.Length][][];
        var tasks = new string[Classes.Length];
        var data = new string[Classes.Length];
        for (int k = 0; k < Classes.Length; k++)
        {
            var delta = HeadedMlp.RandomShared(rng, 0.3);
            // theta_k is stored in f32: tau_k is what the file holds minus theta0 (exact in double).
            var theta = theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => (double)(float)(v + delta[kv.Key][i])).ToArray());
            taus[k] = theta.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => v - theta0[kv.Key][i]).ToArray());
            int c = Classes[k];
            models[k] = new HeadedMlp(c, theta, HeadedMlp.Random(rng, c * HeadedMlp.Hidden, 1.5), HeadedMlp.Random(rng, c, 0.5));
            tasks[k] = Path.Combine(dir, $"task{k}.onnx");
            models[k].Save(tasks[k]);
            x[k] = Enumerable.Range(0, Samples).Select(_ => HeadedMlp.Random(rng, HeadedMlp.In, 1.5)).ToArray();
            data[k] = Path.Combine(dir, $"data{k}.npy");
            using var t = Tensor.Allocate("x", DType.F32, [Samples, HeadedMlp.In]);
            var w = t.Write<float>();
            for (int i = 0; i < Samples; i++) for (int j = 0; j < HeadedMlp.In; j++) w[i * HeadedMlp.In + j] = (float)x[k][i][j];
            NpyFile.Write(data[k], t);
        }
        return new Zoo(Path.Combine(dir, "base.onnx"), tasks, data, theta0, taus, models, x);
    }

    /// <summary>The summed entropy of step <paramref name="step"/>'s batches (file order, wrapping) at coefficients c[k][l] (task-wise: one l).</summary>
    private static double Loss(Zoo z, double[][] c, long step)
    {
        double loss = 0;
        for (int k = 0; k < Classes.Length; k++)
        {
            var p = new Dictionary<string, double[]>(z.Models[k].P, StringComparer.Ordinal);   // its own head
            for (int l = 0; l < HeadedMlp.SharedNames.Length; l++)
            {
                string n = HeadedMlp.SharedNames[l];
                p[n] = z.Theta0[n].Select((v, i) => v + Enumerable.Range(0, Classes.Length).Sum(j => Math.Clamp(c[j][Math.Min(l, c[j].Length - 1)], 0, 1) * z.Tau[j][n][i])).ToArray();
            }
            for (int b = 0; b < BatchesPerStep; b++)
            {
                double sum = 0;
                for (int j = 0; j < Batch; j++)
                {
                    long position = (step * BatchesPerStep + b) * Batch + j;
                    var logits = HeadedMlp.Forward(p, z.X[k][position % Samples], Classes[k]);
                    Assert.That(logits, Has.Length.EqualTo(Classes[k]));
                    sum += HeadedMlp.Entropy(logits);
                }
                loss += sum / Batch;
            }
        }
        return loss;
    }

    [TestCase(Granularity.Layer, 3)]
    [TestCase(Granularity.Task, 3)]
    [TestCase(Granularity.Layer, null)]
    public void CoefficientsAndLossesFollowTheFloat64Reference(Granularity granularity, int? baseClasses)
    {
        using var dir = Fixtures.NewTempDir();
        var z = Write(dir.Path, baseClasses);
        using var problem = MergeProblem.Open(z.Base, z.Tasks, @"^head\.");
        Assert.That(problem.Private.Select(p => p.First(t => t.Name == "head.weight").Shape[0]), Is.EqualTo(Classes.Select(c => (long)c)));
        var options = new AdaMergingOptions(granularity, Init, new AdamSettings(Lr, 0.9f, 0.999f, 1e-8f, 0f), Steps, Batch, BatchesPerStep, false, false, 0.2, 0);
        using var trainer = AdaMergingTrainer.Create(problem, z.Data, options, seed: 0);
        int layers = granularity == Granularity.Layer ? HeadedMlp.SharedNames.Length : 1;
        Assert.That(trainer.Layout.Tensors, Is.EqualTo(HeadedMlp.SharedNames));

        // The reference: raw coefficients c[k][l], Adam moments in float64.
        var c = Enumerable.Range(0, Classes.Length).Select(_ => Enumerable.Repeat((double)Init, layers).ToArray()).ToArray();
        var m = c.Select(r => new double[r.Length]).ToArray();
        var v = c.Select(r => new double[r.Length]).ToArray();
        const double h = 1e-6, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        double movedMost = 0;
        for (int step = 0; step < Steps; step++)
        {
            double expectedLoss = Loss(z, c, step);
            var g = c.Select(r => new double[r.Length]).ToArray();
            for (int k = 0; k < c.Length; k++)
                for (int l = 0; l < layers; l++)
                {
                    double saved = c[k][l];
                    c[k][l] = saved + h;
                    double plus = Loss(z, c, step);
                    c[k][l] = saved - h;
                    double minus = Loss(z, c, step);
                    c[k][l] = saved;
                    g[k][l] = (plus - minus) / (2 * h);
                }
            int t = step + 1;
            for (int k = 0; k < c.Length; k++)
                for (int l = 0; l < layers; l++)
                {
                    m[k][l] = beta1 * m[k][l] + (1 - beta1) * g[k][l];
                    v[k][l] = beta2 * v[k][l] + (1 - beta2) * g[k][l] * g[k][l];
                    double mHat = m[k][l] / (1 - Math.Pow(beta1, t)), vHat = v[k][l] / (1 - Math.Pow(beta2, t));
                    c[k][l] -= (double)Lr * mHat / (Math.Sqrt(vHat) + eps);
                }

            double loss = trainer.Step();
            Assert.That(loss, Is.EqualTo(expectedLoss).Within(2e-6 * Math.Abs(expectedLoss)), $"loss of step {t}");
            for (int k = 0; k < c.Length; k++)
                for (int l = 0; l < layers; l++)
                {
                    Assert.That(trainer.Raw[trainer.Layout.Index(l, k)], Is.EqualTo(c[k][l]).Within(1e-4), $"step {t}, task {k}, coefficient {l}");
                    movedMost = Math.Max(movedMost, Math.Abs(c[k][l] - Init));
                }
        }
        Assert.That(movedMost, Is.GreaterThan(0.05), "the coefficients travel far beyond the tolerance");
    }
}
