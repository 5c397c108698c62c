using Amalgam.Kernels.Merge;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Merge.MergeTestData;

namespace Amalgam.Kernels.Tests.Merge;

public class TiesTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from n in Lengths
        from k in new[] { 1, 2, 5 }
        from weighted in new[] { false, true }
        select new TestCaseData(n, k, weighted);

    private static (float[][] Tiles, float[] Weights) Data(int n, int k, bool weighted)
    {
        var rng = new System.Random(n * 7 + k * 3 + (weighted ? 1 : 0));
        var tiles = Enumerable.Range(0, k).Select(_ => Grid(rng, n)).ToArray();
        // Weights that are exact binary fractions keep weighted grid sums exact.
        var weights = weighted ? Enumerable.Range(0, k).Select(_ => rng.Next(1, 9) * 0.25f).ToArray() : [];
        return (tiles, weights);
    }

    private static double W(float[] weights, int t) => weights.Length == 0 ? 1.0 : weights[t];

    [TestCaseSource(nameof(Cases))]
    public void ElectSignIsSignOfWeightedSum(int n, int k, bool weighted)
    {
        var (tiles, weights) = Data(n, k, weighted);
        var gamma = new float[n];
        long sum = Ties.ElectSign(new TileSet(Stack(tiles), k, n), weights, gamma);
        long expectedSum = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int t = 0; t < k; t++) s += W(weights, t) * tiles[t][i];
            int g = Math.Sign(s);
            expectedSum += g;
            Assert.That(gamma[i], Is.EqualTo((float)g), $"element {i}");
        }
        Assert.That(sum, Is.EqualTo(expectedSum));
    }

    private static double ReferenceMerge(float[][] tiles, float[] weights, int i, double g, TiesMergeMode mode)
    {
        double sum = 0, den = 0, max = 0;
        for (int t = 0; t < tiles.Length; t++)
        {
            double v = W(weights, t) * tiles[t][i];
            if (v == 0 || Math.Sign(v) != (int)g) continue;
            sum += v;
            den += W(weights, t);
            max = Math.Max(max, Math.Abs(v));
        }
        return mode switch
        {
            TiesMergeMode.Sum => sum,
            TiesMergeMode.Mean => sum / (den == 0 ? 1 : den),
            _ => g * max,
        };
    }

    [TestCaseSource(nameof(Cases))]
    public void DisjointMergeMatchesFloat64ReferenceAllModes(int n, int k, bool weighted)
    {
        var (tiles, weights) = Data(n, k, weighted);
        var set = new TileSet(Stack(tiles), k, n);
        var gamma = new float[n];
        Ties.ElectSign(set, weights, gamma);
        foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
            foreach (float zeroSign in new[] { 1f, -1f })
            {
                var merged = new float[n];
                Ties.DisjointMerge(set, weights, gamma, zeroSign, mode, merged);
                for (int i = 0; i < n; i++)
                {
                    double g = gamma[i] == 0 ? zeroSign : gamma[i];
                    double expected = ReferenceMerge(tiles, weights, i, g, mode);
                    Assert.That(merged[i], Is.EqualTo(expected).Within(1e-6 * Math.Abs(expected)), $"{mode}, zero sign {zeroSign}, element {i}");
                }
            }
    }

    /// <summary>The fused merge pass must give exactly the bits of ElectSign, DisjointMerge, AddScaled in turn (tested above against f64).</summary>
    [TestCaseSource(nameof(Cases))]
    public void ElectMergeAddScaledBitIdenticalToThePasses(int n, int k, bool weighted)
    {
        var (tiles, weights) = Data(n, k, weighted);
        var set = new TileSet(Stack(tiles), k, n);
        var theta0 = Uniform(new System.Random(n + 3), n, 2);
        foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
            foreach (float zeroSign in new[] { 1f, -1f })
            {
                var expected = new float[n];
                Ties.ElectSign(set, weights, expected);
                Ties.DisjointMerge(set, weights, expected, zeroSign, mode, expected);
                TaskArithmetic.AddScaled(theta0, 0.3f, expected, expected);
                var actual = new float[n];
                Ties.ElectMergeAddScaled(set, weights, zeroSign, mode, theta0, 0.3f, actual);
                Assert.That(actual.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)), $"{mode}, zero sign {zeroSign}");
            }
    }

    [Test]
    public void DisjointMergeHandComputedElement()
    {
        // Tasks +1, -3, +2 at one element: sum 0 -> elected +1 (zero sign plus): agreeing +1, +2.
        float[] stacked = [1f, -3f, 2f];
        var set = new TileSet(stacked, 3, 1);
        var gamma = new float[1];
        Assert.That(Ties.ElectSign(set, [], gamma), Is.EqualTo(0));
        Assert.That(gamma[0], Is.EqualTo(0f));
        var m = new float[1];
        Ties.DisjointMerge(set, [], gamma, 1f, TiesMergeMode.Sum, m);
        Assert.That(m[0], Is.EqualTo(3f));
        Ties.DisjointMerge(set, [], gamma, 1f, TiesMergeMode.Mean, m);
        Assert.That(m[0], Is.EqualTo(1.5f));
        Ties.DisjointMerge(set, [], gamma, -1f, TiesMergeMode.Max, m);
        Assert.That(m[0], Is.EqualTo(-3f));
        // mergekit: weights 1, 1, 2 -> weighted 1, -3, 4, sum 2 -> +1; (1 + 4) / (1 + 2).
        Ties.ElectSign(set, [1f, 1f, 2f], gamma);
        Ties.DisjointMerge(set, [1f, 1f, 2f], gamma, 1f, TiesMergeMode.Mean, m);
        Assert.That(m[0], Is.EqualTo(5f / 3f));
    }

    [TestCaseSource(typeof(MergeTestData), nameof(Lengths))]
    public void TrimAndSubtractTrimMatchReference(int n)
    {
        var rng = new System.Random(n);
        var a = Grid(rng, n);
        var b = Uniform(rng, n, 0.1);
        var trimmed = (float[])a.Clone();
        Ties.TrimInPlace(trimmed, 1f);
        var tau = new float[n];
        Ties.SubtractTrim(a, b, 1f, tau);
        for (int i = 0; i < n; i++)
        {
            Assert.That(trimmed[i], Is.EqualTo(Math.Abs(a[i]) >= 1 ? a[i] : 0f), $"trim {i}"); // |x| == 1 is kept
            float d = a[i] - b[i];
            Assert.That(tau[i], Is.EqualTo(Math.Abs(d) >= 1 ? d : 0f), $"subtract-trim {i}");
        }
    }

    [TestCase(4099, 5)]
    public void TiledEqualsOneShotBitForBit(int n, int k)
    {
        var rng = new System.Random(5);
        var tiles = Enumerable.Range(0, k).Select(_ => Uniform(rng, n)).ToArray();
        float[] weights = Uniform(rng, k).Select(Math.Abs).ToArray();
        foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
        {
            var gWhole = new float[n];
            var whole = new float[n];
            long sWhole = Ties.ElectSign(new TileSet(Stack(tiles), k, n), weights, gWhole);
            Ties.DisjointMerge(new TileSet(Stack(tiles), k, n), weights, gWhole, 1f, mode, whole);
            var gTiled = new float[n];
            var tiled = new float[n];
            long sTiled = 0;
            foreach (var (s, len) in RandomSplits(n, (int)mode))
            {
                var set = new TileSet(Stack(tiles.Select(t => t[s..(s + len)]).ToArray()), k, len);
                sTiled += Ties.ElectSign(set, weights, gTiled.AsSpan(s, len));
                Ties.DisjointMerge(set, weights, gTiled.AsSpan(s, len), 1f, mode, tiled.AsSpan(s, len));
            }
            Assert.That(sTiled, Is.EqualTo(sWhole));
            Assert.That(tiled.Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(whole.Select(BitConverter.SingleToUInt32Bits)), mode.ToString());
        }
    }

    [TestCase(10, 0.3, 3)]
    [TestCase(100, 0.29, 28)] // 0.29 * 100 = 28.999999999999996 in double, as in mergekit
    [TestCase(1000, 0.0001, 1)] // at least one when density > 0
    [TestCase(1000, 0.0, 0)]
    [TestCase(7, 1.0, 7)]
    [TestCase(0, 0.5, 0)]
    public void KeepCountFloorsAndKeepsAtLeastOne(long count, double density, long expected) =>
        Assert.That(Ties.KeepCount(count, density), Is.EqualTo(expected));

    [Test]
    public void TrimTensorInPlaceKeepsExactlyTheCountLowerIndexWinsTies()
    {
        float[] tau = [0.5f, -2f, 0.5f, 2f, -0.5f, 1f, 0f];
        Ties.TrimTensorInPlace(tau, 0.5); // keep 3: both |2| entries, then |1|
        Assert.That(tau, Is.EqualTo(new[] { 0f, -2f, 0f, 2f, 0f, 1f, 0f }));
        float[] ties = [0.5f, -0.5f, 0.5f, 0.5f];
        Ties.TrimTensorInPlace(ties, 0.5); // keep 2 of 4 equal magnitudes: the first two
        Assert.That(ties, Is.EqualTo(new[] { 0.5f, -0.5f, 0f, 0f }));
    }

    [Test]
    public void BadArgumentsAreRejected()
    {
        var stacked = new float[8];
        Assert.Throws<ArgumentOutOfRangeException>(() => Ties.DisjointMerge(new TileSet(stacked, 2, 4), [], new float[4], 0f, TiesMergeMode.Sum, new float[4]));
        Assert.Throws<ArgumentException>(() => Ties.DisjointMerge(new TileSet(stacked, 2, 4), [1f], new float[4], 1f, TiesMergeMode.Sum, new float[4]));
        Assert.Throws<ArgumentException>(() => Ties.ElectSign(new TileSet(stacked, 2, 4), [], new float[5]));
    }
}
