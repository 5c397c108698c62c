using NUnit.Framework;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Rng;

namespace Amalgam.Kernels.Tests.Merge;

public class DareTests
{
    private const int Million = 1_000_000;

    private static byte[] Mask(PhiloxKey key, float p, int n, long start = 0)
    {
        var m = new byte[n];
        Dare.KeepMask(key, start, p, m);
        return m;
    }

    [TestCase(0.1f)]
    [TestCase(0.5f)]
    [TestCase(0.9f)]
    public void KeptFractionIsWithinFourSigmaOfOneMinusP(float p)
    {
        var m = Mask(PhiloxKey.ForTensor(42, 0, "layers.0.weight"), p, Million);
        double kept = m.Sum(b => (double)b);
        double q = 1 - p, sigma = Math.Sqrt(Million * q * (1 - q));
        Assert.That(kept, Is.EqualTo(Million * q).Within(4 * sigma));
    }

    [Test]
    public void DropRateZeroKeepsAllOneDropsAll()
    {
        var key = PhiloxKey.ForTensor(1, 1, "w");
        Assert.That(Mask(key, 0f, 10_000).All(b => b == 1), Is.True);
        Assert.That(Mask(key, 1f, 10_000).All(b => b == 0), Is.True);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dare.KeepThreshold(1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dare.KeepThreshold(float.NaN));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(15)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(63)]
    [TestCase(1000)]
    [TestCase(4099)]
    public void MaskAndScaleZeroesDroppedAndScalesKept(int n)
    {
        var key = PhiloxKey.ForTensor(9, 2, "t");
        var rng = new System.Random(n);
        var tau = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var orig = (float[])tau.Clone();
        const float p = 0.3f, scale = 1 / (1 - p);
        Dare.MaskAndScale(key, 11, p, scale, tau);
        var m = Mask(key, p, n, 11);
        for (int i = 0; i < n; i++)
        {
            double expected = m[i] == 1 ? orig[i] * (double)scale : 0.0;
            Assert.That(tau[i], Is.EqualTo(expected).Within(1e-6 * Math.Abs(expected)), $"element {i}");
        }
    }

    [Test]
    public void MaskAndScalePreservesExpectedValue()
    {
        // E[mask * tau / (1 - p)] = tau. With tau_i = 1 + (i % 3) the mean of the rescaled values
        // has standard deviation sqrt(p / (1 - p) * mean(tau^2) / n).
        var tau = Enumerable.Range(0, Million).Select(i => 1f + i % 3).ToArray();
        double before = tau.Average(v => (double)v), meanSq = tau.Average(v => (double)v * v);
        const float p = 0.9f;
        Dare.MaskAndScale(PhiloxKey.ForTensor(5, 0, "emb"), 0, p, 1 / (1 - p), tau);
        double sigma = Math.Sqrt(p / (1 - p) * meanSq / Million);
        Assert.That(tau.Average(v => (double)v), Is.EqualTo(before).Within(4 * sigma));
    }

    [TestCase(1, "a", 2, "a")]
    [TestCase(1, "a", 1, "b")]
    [TestCase(1, "layers.0.q", 1, "layers.1.q")]
    public void MasksOfDifferentTasksOrTensorsAreUncorrelated(int taskA, string nameA, int taskB, string nameB)
    {
        const float p = 0.5f;
        var a = Mask(PhiloxKey.ForTensor(42, taskA, nameA), p, Million);
        var b = Mask(PhiloxKey.ForTensor(42, taskB, nameB), p, Million);
        // Independent masks: both kept with probability 1/4.
        double both = 0;
        for (int i = 0; i < Million; i++) both += a[i] & b[i];
        Assert.That(both, Is.EqualTo(Million * 0.25).Within(4 * Math.Sqrt(Million * 0.25 * 0.75)));
        // Shifted by one element too (a stream must not be the other's shifted copy).
        double shifted = 0;
        for (int i = 1; i < Million; i++) shifted += a[i] & b[i - 1];
        Assert.That(shifted, Is.EqualTo((Million - 1) * 0.25).Within(4 * Math.Sqrt(Million * 0.25 * 0.75)));
    }

    [Test]
    public void ChunkedEqualsOneShot()
    {
        var key = PhiloxKey.ForTensor(3, 4, "x");
        const int n = 20_000;
        var rng = new System.Random(3);
        var whole = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var pieces = (float[])whole.Clone();
        Dare.MaskAndScale(key, 0, 0.7f, 2.5f, whole);
        for (int at = 0; at < n;)
        {
            int len = Math.Min(n - at, rng.Next(0, 3000));
            Dare.MaskAndScale(key, at, 0.7f, 2.5f, pieces.AsSpan(at, len));
            at += len;
        }
        Assert.That(pieces, Is.EqualTo(whole));
    }

    [Test]
    public void L1NormsMatchMaskedSums()
    {
        var key = PhiloxKey.ForTensor(8, 1, "y");
        const int n = 4099;
        var rng = new System.Random(8);
        var tau = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var m = Mask(key, 0.4f, n, 17);
        double total = 0, kept = 0;
        for (int i = 0; i < n; i++) { total += Math.Abs(tau[i]); kept += m[i] * Math.Abs(tau[i]); }
        var (t, k) = Dare.L1Norms(key, 17, 0.4f, tau);
        Assert.That(t, Is.EqualTo(total).Within(1e-9 * total));
        Assert.That(k, Is.EqualTo(kept).Within(1e-9 * total));
    }
}
