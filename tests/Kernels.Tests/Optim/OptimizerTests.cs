using Amalgam.Kernels.Optim;

namespace Amalgam.Kernels.Tests.Optim;

public class OptimizerTests
{
    private static readonly int[] Lengths = [0, 1, 3, 4, 7, 8, 15, 16, 17, 33, 100];

    private static float[] Uniform(System.Random rng, int n, double scale = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    // ---- float64 references, written from the PyTorch documentation's pseudo-code ----

    private static void SgdReference(double[] p, double[] g, double[] v, double lr, double mu, double wd)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double gi = g[i] + wd * p[i];
            v[i] = mu * v[i] + gi;
            p[i] -= lr * v[i];
        }
    }

    private static void AdamReference(double[] p, double[] g, double[] m, double[] v, AdamSettings s, int t)
    {
        for (int i = 0; i < p.Length; i++)
        {
            double gi = g[i];
            if (s.DecoupledWeightDecay) p[i] -= s.LearningRate * s.WeightDecay * p[i];
            else gi += s.WeightDecay * p[i];
            m[i] = s.Beta1 * m[i] + (1 - (double)s.Beta1) * gi;
            v[i] = s.Beta2 * v[i] + (1 - (double)s.Beta2) * gi * gi;
            double mHat = m[i] / (1 - Math.Pow(s.Beta1, t));
            double vHat = v[i] / (1 - Math.Pow(s.Beta2, t));
            p[i] -= s.LearningRate * mHat / (Math.Sqrt(vHat) + s.Epsilon);
        }
    }

    private static double[] D(float[] x) => x.Select(f => (double)f).ToArray();

    private static void AssertClose(float[] actual, double[] expected, double rel, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(rel * (1 + Math.Abs(expected[i]))), $"{what} [{i}]");
    }

    [Test]
    public void SgdFiveStepsMatchFloat64Formula([ValueSource(nameof(Lengths))] int n, [Values(0f, 0.01f)] float wd)
    {
        var rng = new System.Random(n + 7);
        float[] p = Uniform(rng, n), v = new float[n];
        double[] pr = D(p), vr = new double[n];
        for (int step = 0; step < 5; step++)
        {
            float[] g = Uniform(rng, n);
            SgdMomentum.Step(p, g, v, 0.05f, 0.9f, wd);
            SgdReference(pr, D(g), vr, 0.05, 0.9f, wd);
        }
        AssertClose(p, pr, 1e-6, "param");
        AssertClose(v, vr, 1e-6, "velocity");
    }

    [Test]
    public void AdamFiveStepsMatchFloat64Formula([ValueSource(nameof(Lengths))] int n, [Values(0f, 0.05f)] float wd, [Values(true, false)] bool decoupled)
    {
        var rng = new System.Random(n + 11);
        var s = new AdamSettings(0.01f, WeightDecay: wd, DecoupledWeightDecay: decoupled);
        float[] p = Uniform(rng, n), m = new float[n], v = new float[n];
        double[] pr = D(p), mr = new double[n], vr = new double[n];
        for (int t = 1; t <= 5; t++)
        {
            // Gradients of mixed scale, so that eps and the bias correction both matter somewhere.
            float[] g = Uniform(rng, n, t % 2 == 0 ? 1e-3 : 2);
            Adam.Step(p, g, m, v, s, t);
            AdamReference(pr, D(g), mr, vr, s, t);
        }
        AssertClose(p, pr, 2e-6, "param");
        AssertClose(m, mr, 1e-6, "m");
        AssertClose(v, vr, 1e-6, "v");
    }

    [Test]
    public void AdamFirstStepMovesEachParameterByLearningRateTimesSign()
    {
        // At t = 1, m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps) ~ lr * sign(g).
        float[] p = [1f, 1f, 1f, 1f, 1f], g = [3f, -0.5f, 1e-2f, -40f, 0f];
        float[] m = new float[5], v = new float[5];
        Adam.Step(p, g, m, v, new AdamSettings(0.1f), 1);
        double[] expected = g.Select(x => 1 - 0.1 * x / (Math.Abs(x) + 1e-8)).ToArray();
        AssertClose(p, expected, 1e-6, "param");
    }

    // Values saved from torch: /usr/bin/python3 (Debian python3-torch 1.13), float32 tensor p0 below,
    // three steps with p.grad set to each row of Grads, then opt.step():
    //   SGD(lr=0.1, momentum=0.9); Adam(lr=0.01); AdamW(lr=0.01, weight_decay=0.1);
    //   Adam(lr=0.01, weight_decay=0.1). Printed with '%.9g'.
    private static readonly float[] P0 = [0.5f, -1.25f, 2.0f, 0.0f, 3.0f, -0.75f, 1.5f];
    private static readonly float[][] Grads =
    [
        [0.1f, -0.2f, 0.3f, -0.4f, 0.5f, 0.25f, -1.0f],
        [-0.3f, 0.1f, 0.2f, 0.05f, -0.5f, 0.75f, 0.0f],
        [0.2f, 0.2f, -0.1f, 0.3f, 0.1f, -0.25f, 0.5f],
    ];
    private static readonly float[] TorchSgd = [0.509900033f, -1.23479998f, 1.89069998f, 0.0688999966f, 2.94950008f, -0.935249984f, 1.72100008f];
    private static readonly float[] TorchAdam = [0.494754046f, -1.24006355f, 1.97477758f, 0.0154582057f, 2.9900341f, -0.774014711f, 1.51847327f];
    private static readonly float[] TorchAdamW = [0.493270606f, -1.23633993f, 1.96881342f, 0.01543249f, 2.98106265f, -0.771737814f, 1.51395106f];
    private static readonly float[] TorchAdamL2 = [0.49054271f, -1.22879434f, 1.97160411f, 0.0154071515f, 2.97927475f, -0.772387385f, 1.51471031f];

    [Test]
    public void SgdMatchesValuesSavedFromTorch()
    {
        float[] p = (float[])P0.Clone(), v = new float[P0.Length];
        foreach (var g in Grads) SgdMomentum.Step(p, g, v, 0.1f, 0.9f);
        Assert.That(p, Is.EqualTo(TorchSgd).Within(1e-6f));
    }

    [TestCase(0f, true, "adam")]
    [TestCase(0.1f, true, "adamw")]
    [TestCase(0.1f, false, "adam_l2")]
    public void AdamMatchesValuesSavedFromTorch(float wd, bool decoupled, string which)
    {
        float[] expected = which switch { "adam" => TorchAdam, "adamw" => TorchAdamW, _ => TorchAdamL2 };
        float[] p = (float[])P0.Clone(), m = new float[P0.Length], v = new float[P0.Length];
        var s = new AdamSettings(0.01f, WeightDecay: wd, DecoupledWeightDecay: decoupled);
        for (int t = 1; t <= Grads.Length; t++) Adam.Step(p, Grads[t - 1], m, v, s, t);
        Assert.That(p, Is.EqualTo(expected).Within(1e-6f));
    }

    [Test]
    public void ResultsDoNotDependOnWhichPathHandledAnElement()
    {
        // The whole array goes through the vector paths; one element at a time is the scalar tail.
        const int n = 67;
        var rng = new System.Random(5);
        float[] p0 = Uniform(rng, n), g = Uniform(rng, n);
        var s = new AdamSettings(0.003f, WeightDecay: 0.02f);
        float[] pa = (float[])p0.Clone(), ma = new float[n], va = new float[n];
        float[] pb = (float[])p0.Clone(), mb = new float[n], vb = new float[n];
        float[] ps = (float[])p0.Clone(), vs = new float[n], pt = (float[])p0.Clone(), vt = new float[n];
        for (int t = 1; t <= 3; t++)
        {
            Adam.Step(pa, g, ma, va, s, t);
            SgdMomentum.Step(ps, g, vs, 0.1f, 0.9f, 0.01f);
            for (int i = 0; i < n; i++)
            {
                Adam.Step(pb.AsSpan(i, 1), g.AsSpan(i, 1), mb.AsSpan(i, 1), vb.AsSpan(i, 1), s, t);
                SgdMomentum.Step(pt.AsSpan(i, 1), g.AsSpan(i, 1), vt.AsSpan(i, 1), 0.1f, 0.9f, 0.01f);
            }
        }
        Assert.That(pa, Is.EqualTo(pb));
        Assert.That(ma, Is.EqualTo(mb));
        Assert.That(va, Is.EqualTo(vb));
        Assert.That(ps, Is.EqualTo(pt));
    }

    [Test]
    public void RejectsMismatchedLengthsAndBadSettings()
    {
        float[] a = new float[4], b = new float[3];
        Assert.Throws<ArgumentException>(() => SgdMomentum.Step(a, b, a, 0.1f, 0.9f));
        Assert.Throws<ArgumentException>(() => Adam.Step(a, a, b, a, new AdamSettings(0.1f), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Adam.Step(a, a, a, a, new AdamSettings(0.1f), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Adam.Step(a, a, a, a, new AdamSettings(0.1f, Beta2: 1f), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Adam.Step(a, a, a, a, new AdamSettings(float.NaN), 1));
    }
}
