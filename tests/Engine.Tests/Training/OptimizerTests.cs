using Amalgam.Engine.Training;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Training;

/// <summary>
/// The optimiser classes over several tensors and steps: bit-identical to calling the kernels with
/// hand-kept state, and within float32 rounding of the torch formulas evaluated in float64 here.
/// </summary>
public sealed class OptimizerTests
{
    private static readonly long[][] Shapes = [[3, 5], [7], [2, 2, 3]];

    [Test]
    public void SgdFollowsTheMomentumFormula()
    {
        const float lr = 0.05f, mu = 0.9f, wd = 0.01f;
        var (parameters, grads) = Random(seed: 3);
        var reference = parameters.Select(p => p.Read<float>().ToArray().Select(v => (double)v).ToArray()).ToArray();
        var velocity = reference.Select(r => new double[r.Length]).ToArray();
        var kernelParams = parameters.Select(p => p.Read<float>().ToArray()).ToArray();
        var kernelVelocity = kernelParams.Select(p => new float[p.Length]).ToArray();
        try
        {
            using var sgd = new SgdOptimizer(parameters, lr, mu, wd);
            for (int step = 1; step <= 4; step++)
            {
                var g = grads[step - 1];
                sgd.Step(g);
                Assert.That(sgd.StepCount, Is.EqualTo(step));
                for (int i = 0; i < parameters.Count; i++)
                {
                    var gi = g[parameters[i].Name].Read<float>();
                    SgdMomentum.Step(kernelParams[i], gi, kernelVelocity[i], lr, mu, wd);
                    for (int j = 0; j < reference[i].Length; j++)
                    {
                        double gj = gi[j] + (double)wd * reference[i][j];
                        velocity[i][j] = mu * velocity[i][j] + gj;
                        reference[i][j] -= lr * velocity[i][j];
                    }
                    Assert.That(parameters[i].Read<float>().ToArray(), Is.EqualTo(kernelParams[i]), $"step {step} {parameters[i].Name}: as the kernel");
                    Assert.That(sgd.Velocity(i).ToArray(), Is.EqualTo(kernelVelocity[i]));
                    AssertClose(parameters[i].Read<float>(), reference[i], 1e-5, $"step {step} {parameters[i].Name}");
                }
            }
        }
        finally
        {
            Dispose(parameters, grads);
        }
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AdamFollowsTheBiasCorrectedFormula(bool decoupled)
    {
        var settings = new AdamSettings(LearningRate: 0.01f, Beta1: 0.9f, Beta2: 0.99f, Epsilon: 1e-8f, WeightDecay: 0.1f, DecoupledWeightDecay: decoupled);
        var (parameters, grads) = Random(seed: 5);
        var reference = parameters.Select(p => p.Read<float>().ToArray().Select(v => (double)v).ToArray()).ToArray();
        var m = reference.Select(r => new double[r.Length]).ToArray();
        var v = reference.Select(r => new double[r.Length]).ToArray();
        var kp = parameters.Select(p => p.Read<float>().ToArray()).ToArray();
        var km = kp.Select(p => new float[p.Length]).ToArray();
        var kv = kp.Select(p => new float[p.Length]).ToArray();
        try
        {
            using var adam = new AdamOptimizer(parameters, settings);
            for (int step = 1; step <= 4; step++)
            {
                var g = grads[step - 1];
                adam.Step(g);
                Assert.That(adam.StepCount, Is.EqualTo(step));
                double lr = settings.LearningRate, b1 = settings.Beta1, b2 = settings.Beta2, wd = settings.WeightDecay, eps = settings.Epsilon;
                for (int i = 0; i < parameters.Count; i++)
                {
                    var gi = g[parameters[i].Name].Read<float>();
                    Kernels.Optim.Adam.Step(kp[i], gi, km[i], kv[i], settings, step);
                    for (int j = 0; j < reference[i].Length; j++)
                    {
                        double p = reference[i][j], gj = gi[j];
                        if (decoupled) p *= 1 - lr * wd;
                        else gj += wd * p;
                        m[i][j] = b1 * m[i][j] + (1 - b1) * gj;
                        v[i][j] = b2 * v[i][j] + (1 - b2) * gj * gj;
                        double mHat = m[i][j] / (1 - Math.Pow(b1, step)), vHat = v[i][j] / (1 - Math.Pow(b2, step));
                        reference[i][j] = p - lr * mHat / (Math.Sqrt(vHat) + eps);
                    }
                    Assert.That(parameters[i].Read<float>().ToArray(), Is.EqualTo(kp[i]), $"step {step} {parameters[i].Name}: as the kernel");
                    Assert.That(adam.FirstMoment(i).ToArray(), Is.EqualTo(km[i]));
                    Assert.That(adam.SecondMoment(i).ToArray(), Is.EqualTo(kv[i]));
                    AssertClose(parameters[i].Read<float>(), reference[i], 1e-5, $"step {step} {parameters[i].Name}");
                }
            }
        }
        finally
        {
            Dispose(parameters, grads);
        }
    }

    [Test]
    public void LearningRateCanChangeBetweenStepsAndZeroFreezes()
    {
        var (parameters, grads) = Random(seed: 9);
        try
        {
            using var adam = new AdamOptimizer(parameters, new AdamSettings(0.1f, WeightDecay: 0f));
            var before = parameters.Select(p => p.Read<float>().ToArray()).ToArray();
            adam.LearningRate = 0f;
            adam.Step(grads[0]);
            for (int i = 0; i < parameters.Count; i++) Assert.That(parameters[i].Read<float>().ToArray(), Is.EqualTo(before[i]));
            adam.LearningRate = 0.1f;
            adam.Step(grads[1]);
            Assert.That(parameters[0].Read<float>().ToArray(), Is.Not.EqualTo(before[0]));
            Assert.That(() => adam.LearningRate = -1f, Throws.InstanceOf<ArgumentOutOfRangeException>());
        }
        finally
        {
            Dispose(parameters, grads);
        }
    }

    [Test]
    public void MissingOrMisshapedGradientsAreRejectedBeforeAnyUpdate()
    {
        var (parameters, grads) = Random(seed: 11);
        try
        {
            using var sgd = new SgdOptimizer(parameters, 0.1f);
            var before = parameters.Select(p => p.Read<float>().ToArray()).ToArray();
            var partial = grads[0].Where(kv => kv.Key != parameters[^1].Name).ToDictionary();
            Assert.That(() => sgd.Step(partial), Throws.ArgumentException.With.Message.Contains(parameters[^1].Name));
            using var wrong = Tensor.Allocate(parameters[0].Name, DType.F32, [1]);
            var misshaped = new Dictionary<string, Tensor>(grads[0]) { [parameters[0].Name] = wrong };
            Assert.That(() => sgd.Step(misshaped), Throws.ArgumentException.With.Message.Contains(parameters[0].Name));
            for (int i = 0; i < parameters.Count; i++) Assert.That(parameters[i].Read<float>().ToArray(), Is.EqualTo(before[i]));
            Assert.That(sgd.StepCount, Is.Zero);
        }
        finally
        {
            Dispose(parameters, grads);
        }
    }

    private static (List<Tensor> Parameters, List<Dictionary<string, Tensor>> Grads) Random(int seed)
    {
        var rng = new Random(seed);
        var parameters = Shapes.Select((s, i) => Fill(Tensor.Allocate($"p{i}", DType.F32, s), rng)).ToList();
        var grads = Enumerable.Range(0, 4).Select(_ => parameters.ToDictionary(p => p.Name, p => Fill(Tensor.Allocate("g", DType.F32, p.Shape), rng))).ToList();
        return (parameters, grads);
    }

    private static Tensor Fill(Tensor t, Random rng)
    {
        var w = t.Write<float>();
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        return t;
    }

    private static void AssertClose(ReadOnlySpan<float> got, double[] want, double tolerance, string what)
    {
        for (int j = 0; j < want.Length; j++)
            Assert.That(got[j], Is.EqualTo(want[j]).Within(tolerance * Math.Max(1, Math.Abs(want[j]))), $"{what}[{j}]");
    }

    private static void Dispose(List<Tensor> parameters, List<Dictionary<string, Tensor>> grads)
    {
        foreach (var p in parameters) p.Dispose();
        foreach (var g in grads.SelectMany(d => d.Values)) g.Dispose();
    }
}
