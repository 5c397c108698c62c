using Amalgam.Kernels.Selection;
using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Selection;

/// <summary>Signed k-th largest and quantiles against a full sort of the same values.</summary>
public class SignedHistogramTests
{
    private static readonly string[] Kinds = ["spread", "duplicates", "zeros", "extremes", "allNegative"];

    private static float[] Make(string kind, int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => kind switch
        {
            "spread" => (float)((rng.NextDouble() * 2 - 1) * Math.Pow(10, rng.Next(-6, 6))),
            "duplicates" => rng.Next(-3, 4) * 0.25f,
            "zeros" => rng.Next(3) switch { 0 => 0f, 1 => -0f, _ => (float)(rng.NextDouble() - 0.5) * 1e-3f },
            "extremes" => rng.Next(6) switch
            {
                0 => float.PositiveInfinity, 1 => float.NegativeInfinity, 2 => float.Epsilon, 3 => -float.Epsilon,
                4 => float.MaxValue, _ => -float.MaxValue,
            },
            _ => -(float)rng.NextDouble() - 1e-3f,
        }).ToArray();
    }

    private static IEnumerable<TestCaseData> Cases() =>
        from kind in Kinds
        from n in new[] { 1, 2, 7, 1000, 4099 }
        select new TestCaseData(kind, n);

    private static IEnumerable<TestCaseData> FiniteCases() =>
        from kind in Kinds.Where(k => k != "extremes")
        from n in new[] { 1, 2, 7, 1000, 4099 }
        select new TestCaseData(kind, n);

    [TestCaseSource(nameof(Cases))]
    public void KthLargestEqualsFullSort(string kind, int n)
    {
        var x = Make(kind, n, n);
        var descending = x.Select(v => (double)v).OrderByDescending(v => v).ToArray();
        var histogram = new SignedHistogram();
        histogram.Add(x);
        long[] ranks = new long[] { 1, n, (n + 1) / 2, Math.Max(1, n / 10), Math.Max(1, n - 3) }.Distinct().ToArray();
        var refinement = histogram.Refine(ranks);
        refinement.Add(x);
        foreach (long k in ranks)
            Assert.That((double)refinement.KthLargest(k), Is.EqualTo(descending[k - 1]), $"rank {k}");
    }

    // Finite values only (infinities make numpy's lerp NaN; merge inputs are checked finite).
    [TestCaseSource(nameof(FiniteCases))]
    public void QuantilesMatchNumpyLinearOnASortedCopy(string kind, int n)
    {
        var x = Make(kind, n, 3 * n + 1);
        var ascending = x.Select(v => (double)v).Order().ToArray();
        double[] qs = [0, 0.01, 0.05, 0.5, 0.95, 0.99, 1];
        var histogram = new SignedHistogram();
        // Two histograms over two halves, merged: the same as one over everything.
        var other = new SignedHistogram();
        histogram.Add(x.AsSpan(0, n / 2));
        other.Add(x.AsSpan(n / 2));
        histogram.Merge(other);
        Assert.That(histogram.Count, Is.EqualTo(n));
        var refinement = histogram.RefineForQuantiles(qs);
        var second = refinement.CreateEmptyCopy();
        refinement.Add(x.AsSpan(0, n / 3));
        second.Add(x.AsSpan(n / 3));
        refinement.Merge(second);
        foreach (double q in qs)
        {
            double h = (n - 1) * q;
            int j = (int)Math.Floor(h);
            double a = ascending[j], b = ascending[Math.Min(j + 1, n - 1)], t = h - j;
            double expected = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
            Assert.That(refinement.Quantile(n, q), Is.EqualTo(expected), $"q={q}");
        }
    }

    [TestCaseSource(nameof(FiniteCases))]
    public void ValuesBelowTheLowerBoundCanBeLeftOut(string kind, int n)
    {
        var x = Make(kind, n, 7 * n + 3);
        var histogram = new SignedHistogram();
        histogram.Add(x);
        double[] qs = [0.05, 0.5, 0.95];
        var full = histogram.RefineForQuantiles(qs);
        full.Add(x);
        var partial = histogram.RefineForQuantiles(qs);
        float floor = partial.LowerBound;
        // What a caller may do: replace every value below the floor by -inf (never counted).
        partial.Add(x.Select(v => v < floor ? float.NegativeInfinity : v).ToArray());
        foreach (double q in qs)
        {
            Assert.That(full.Quantile(n, q), Is.GreaterThanOrEqualTo(floor), $"q={q}");
            Assert.That(partial.Quantile(n, q), Is.EqualTo(full.Quantile(n, q)), $"q={q}");
        }
    }

    [Test]
    public void OrderedKeyIsMonotonicAndRoundTrips()
    {
        var rng = new Random(5);
        var values = Enumerable.Range(0, 20000).Select(_ => BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)))
            .Where(v => !float.IsNaN(v)).Concat([0f, -0f, float.Epsilon, -float.Epsilon, float.PositiveInfinity, float.NegativeInfinity])
            .OrderBy(v => v).ToArray();
        for (int i = 1; i < values.Length; i++)
        {
            uint a = SignedHistogram.OrderedKey(values[i - 1]), b = SignedHistogram.OrderedKey(values[i]);
            Assert.That(values[i - 1] < values[i] ? a < b : a == b, Is.True, $"{values[i - 1]} vs {values[i]}");
        }
        foreach (float v in values)
        {
            float back = SignedHistogram.FromOrderedKey(SignedHistogram.OrderedKey(v));
            Assert.That(BitConverter.SingleToUInt32Bits(back), Is.EqualTo(BitConverter.SingleToUInt32Bits(v == 0 ? 0f : v)));
        }
    }

    [Test]
    public void RankOutsideTheCountIsRejected()
    {
        var histogram = new SignedHistogram();
        histogram.Add([1f, -2f]);
        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.Refine(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.Refine(0));
    }
}
