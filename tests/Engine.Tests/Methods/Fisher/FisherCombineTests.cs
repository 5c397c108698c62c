using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods.FisherMethod;

/// <summary>
/// The combination step theta = sum_k max(F_k, 1e-6) theta_k / sum_k max(F_k, 1e-6) of
/// <see cref="FisherMerge.Merge"/>, against float64 formulas and hand-computed values.
/// </summary>
public sealed class FisherCombineTests
{
    private const float Floor = Amalgam.Engine.Methods.Fisher.FisherMethod.Floor;

    private static float[] Combine(float[][] thetas, float[][] fishers)
    {
        int n = thetas[0].Length;
        var output = new float[n];
        FisherMerge.Merge(new TileSet(thetas.SelectMany(t => t).ToArray(), thetas.Length, n),
            new TileSet(fishers.SelectMany(t => t).ToArray(), fishers.Length, n), Floor, output);
        return output;
    }

    private static float[] Random(Random rng, int n, double lo, double hi) =>
        Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * rng.NextDouble())).ToArray();

    [TestCase(1), TestCase(7), TestCase(515), TestCase(1031)]
    public void EqualFisherGivesThePlainAverage(int n)
    {
        var rng = new Random(n);
        foreach (int k in new[] { 2, 3, 5 })
        {
            var thetas = Enumerable.Range(0, k).Select(_ => Random(rng, n, -2, 2)).ToArray();
            var f = Random(rng, n, 1e-3, 10);
            var got = Combine(thetas, Enumerable.Repeat(f, k).ToArray());
            for (int i = 0; i < n; i++)
            {
                double mean = thetas.Sum(t => (double)t[i]) / k;
                Assert.That(Ulp.Distance(got[i], (float)mean, DType.F32), Is.LessThanOrEqualTo(1), $"k={k} [{i}]");
            }
        }
    }

    [Test]
    public void HandComputedUnequalFisher()
    {
        // Element 0: (1*1 + 3*3) / (1 + 3) = 2.5. Element 1: (2*(-1) + 6*5) / 8 = 3.5.
        // Element 2: F = 0 and 4 -> floored 1e-6 and 4: (1e-6*10 + 4*2) / (4 + 1e-6).
        // Element 3: both F = 0 -> both floored: plain average (4 + 8) / 2 = 6.
        float[][] thetas = [[1, -1, 10, 4], [3, 5, 2, 8]];
        float[][] fishers = [[1, 2, 0, 0], [3, 6, 4, 0]];
        var got = Combine(thetas, fishers);
        double floor = Floor;
        double[] want = [2.5, 3.5, (floor * 10 + 4.0 * 2) / (4 + floor), 6];
        for (int i = 0; i < want.Length; i++) Assert.That(got[i], Is.EqualTo((float)want[i]), $"[{i}]");
        Assert.That(got[2], Is.Not.EqualTo(2f), "the floored F still counts");
    }

    [Test]
    public void RandomUnequalFisherMatchesTheFloat64Formula()
    {
        var rng = new Random(5);
        const int n = 2053, k = 4;
        var thetas = Enumerable.Range(0, k).Select(_ => Random(rng, n, -3, 3)).ToArray();
        // Fisher values spanning many magnitudes, some below the floor and some exactly 0.
        var fishers = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, n).Select(i => i % 17 == 0 ? 0f : (float)Math.Pow(10, -9 + 10 * rng.NextDouble())).ToArray()).ToArray();
        var got = Combine(thetas, fishers);
        for (int i = 0; i < n; i++)
        {
            double num = 0, den = 0;
            for (int t = 0; t < k; t++)
            {
                double w = Math.Max(fishers[t][i], (double)Floor);
                num += w * thetas[t][i];
                den += w;
            }
            Assert.That(Ulp.Distance(got[i], (float)(num / den), DType.F32), Is.LessThanOrEqualTo(1), $"[{i}]");
        }
    }

    [Test]
    public void OneTaskGivesItsOwnWeightsExactly()
    {
        var rng = new Random(9);
        var theta = Random(rng, 1000, -5, 5);
        var f = Enumerable.Range(0, 1000).Select(i => i % 3 == 0 ? 0f : (float)Math.Pow(10, -12 + 14 * rng.NextDouble())).ToArray();
        Assert.That(Combine([theta], [f]), Is.EqualTo(theta));
    }

    [Test]
    public void NaNFisherPropagates()
    {
        var got = Combine([[1f, 2, 3, 4, 5], [1f, 2, 3, 4, 5]], [[1f, float.NaN, 1, 1, float.NaN], [1f, 1, 1, 1, 1]]);
        Assert.That(float.IsNaN(got[1]) && float.IsNaN(got[4]), Is.True);
        Assert.That(got[0], Is.EqualTo(1f));
    }

    [Test]
    public void MismatchedTilesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => FisherMerge.Merge(new TileSet(new float[4], 2, 2), new TileSet(new float[2], 1, 2), Floor, new float[2]));
        Assert.Throws<ArgumentException>(() => FisherMerge.Merge(new TileSet(new float[4], 2, 2), new TileSet(new float[4], 2, 2), Floor, new float[3]));
    }
}
