using Amalgam.Engine.Zoo;

namespace Amalgam.Engine.Tests.Zoo;

/// <summary>The probe's held-out choice of L2 (text zoo) and its cross-entropy, against direct float64 computations.</summary>
public class LinearProbeL2Tests
{
    /// <summary>n noisy samples of a 3-class problem in 20 dimensions, only 2 of which carry the class: few samples, many useless dimensions.</summary>
    private static (float[] X, long[] Y) Noisy(int n, int seed)
    {
        var rng = new Random(seed);
        const int dim = 20;
        var x = new float[n * dim];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = rng.Next(3);
            for (int j = 0; j < dim; j++) x[i * dim + j] = (float)(rng.NextDouble() * 2 - 1);
            x[i * dim] += 0.8f * (y[i] - 1);
            x[i * dim + 1] += 0.8f * (y[i] == 2 ? 1 : -0.5f);
        }
        return (x, y);
    }

    [Test]
    public void CrossEntropyIsTheMeanNegativeLogSoftmaxOfTheLabel()
    {
        // Two samples in 2 dims, 2 classes, W = [[1, 0], [0, 2]], b = [0.5, -0.5], worked by hand.
        float[] x = [1, 2, -1, 0.5f], w = [1, 0, 0, 2], b = [0.5f, -0.5f];
        long[] y = [1, 0];
        double z00 = 1.5, z01 = 3.5, z10 = -0.5, z11 = 0.5;
        double expected = ((Math.Log(Math.Exp(z00) + Math.Exp(z01)) - z01) + (Math.Log(Math.Exp(z10) + Math.Exp(z11)) - z10)) / 2;
        Assert.That(LinearProbe.CrossEntropy(x, y, 2, 2, w, b), Is.EqualTo(expected).Within(1e-12));
    }

    [Test]
    public void ChooseL2TakesTheCandidateWithTheLowestHeldOutCrossEntropy()
    {
        var (x, y) = Noisy(200, 3);
        const int dim = 20, iterations = 150;
        double[] candidates = [1e-4, 1e-2, 1, 100];
        // The rule written out: fit on the first 160, score on the last 40.
        var held = new Dictionary<double, double>();
        foreach (double l2 in candidates)
        {
            var (w, b, _) = LinearProbe.Fit(x[..(160 * dim)], y[..160], dim, 3, iterations, null, l2);
            held[l2] = LinearProbe.CrossEntropy(x[(160 * dim)..], y[160..], dim, 3, w, b);
        }
        double expected = held.OrderBy(kv => kv.Value).First().Key;
        Assert.That(LinearProbe.ChooseL2(x, y, dim, 3, iterations, candidates), Is.EqualTo(expected));
        // On this problem (18 useless dimensions, 160 samples) neither extreme wins: the unregularised fit is overconfident, 100 underfits.
        Assert.That(expected, Is.Not.EqualTo(1e-4).And.Not.EqualTo(100));
        Assert.That(held[expected], Is.LessThan(held[1e-4]));
    }

    [Test]
    public void StrongerL2GivesSmallerWeights()
    {
        var (x, y) = Noisy(120, 5);
        var (weak, _, _) = LinearProbe.Fit(x, y, 20, 3, 150, null, 1e-4);
        var (strong, _, _) = LinearProbe.Fit(x, y, 20, 3, 150, null, 1);
        Assert.That(strong.Sum(v => (double)v * v), Is.LessThan(weak.Sum(v => (double)v * v) / 2));
    }
}
