using Amalgam.Kernels.Selection;
using MathNet.Numerics.Statistics;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Selection.SelectionData;

namespace Amalgam.Kernels.Tests.Selection;

public class MagnitudeHistogramTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from kind in Kinds
        from n in new[] { 1, 7, 17, 1000, 4099 }
        select new TestCaseData(kind, n);

    [TestCaseSource(nameof(Cases))]
    public void KthLargestEqualsFullSortForEveryRankKind(string kind, int n)
    {
        var x = Make(kind, n, n);
        var sorted = MagnitudesDescending(x);
        var histogram = new MagnitudeHistogram();
        histogram.Add(x);
        long[] ranks = new long[] { 1, n, (n + 1) / 2, Math.Max(1, n / 10), Math.Max(1, n - 3) }.Distinct().ToArray();
        var refinement = histogram.Refine(ranks);
        refinement.Add(x);
        foreach (long k in ranks)
        {
            float t = refinement.KthLargest(k, out long greater);
            uint expected = sorted[k - 1];
            Assert.That(BitConverter.SingleToUInt32Bits(t), Is.EqualTo(expected), $"rank {k}");
            Assert.That(greater, Is.EqualTo(sorted.Count(a => a > expected)), $"count above rank {k}");
            Assert.That(sorted.Count(a => a >= expected), Is.GreaterThanOrEqualTo(k));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void ChunkedAndMergedEqualsOneShot(string kind, int n)
    {
        var x = Make(kind, n, n + 100);
        var sorted = MagnitudesDescending(x);
        var splits = RandomSplits(n, n);
        // Two "threads" take alternate chunks; their histograms and refinements are merged.
        var h = new[] { new MagnitudeHistogram(), new MagnitudeHistogram() };
        for (int c = 0; c < splits.Count; c++) h[c % 2].Add(x.AsSpan(splits[c].Start, splits[c].Length));
        h[0].Merge(h[1]);
        Assert.That(h[0].Count, Is.EqualTo(n));
        long k = Math.Max(1, n / 3);
        var r0 = h[0].Refine(k);
        var r1 = r0.CreateEmptyCopy();
        for (int c = splits.Count - 1; c >= 0; c--) (c % 3 == 0 ? r0 : r1).Add(x.AsSpan(splits[c].Start, splits[c].Length));
        r0.Merge(r1);
        Assert.That(BitConverter.SingleToUInt32Bits(r0.KthLargest(k)), Is.EqualTo(sorted[k - 1]));
    }

    [Test]
    public void FoldingPendingCountsMidChunkLosesNothing()
    {
        var x = Make("ties", 1000, 4);
        var sorted = MagnitudesDescending(x);
        var h = new MagnitudeHistogram { FoldEvery = 7 }; // folds inside and across chunks
        foreach (var (s, l) in RandomSplits(x.Length, 9)) h.Add(x.AsSpan(s, l));
        var r = h.Refine(1, 500, 1000);
        r.Add(x);
        foreach (long k in new long[] { 1, 500, 1000 })
            Assert.That(BitConverter.SingleToUInt32Bits(r.KthLargest(k)), Is.EqualTo(sorted[k - 1]), $"rank {k}");
    }

    [Test]
    public void ZerosOfBothSignsAreOneValue()
    {
        float[] x = [-0f, 0f, -0f, 1f];
        var h = new MagnitudeHistogram();
        h.Add(x);
        var r = h.Refine(2, 4);
        r.Add(x);
        Assert.That(BitConverter.SingleToUInt32Bits(r.KthLargest(4, out long greater)), Is.EqualTo(0u));
        Assert.That(greater, Is.EqualTo(1));
        Assert.That(r.KthLargest(2), Is.EqualTo(0f));
    }

    [Test]
    public void RanksOutsideTheDataAreRejected()
    {
        var h = new MagnitudeHistogram();
        h.Add([1f, 2f]);
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Refine(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Refine(3));
        var r = h.Refine(1);
        Assert.Throws<ArgumentException>(() => r.KthLargest(2));
        Assert.Throws<InvalidOperationException>(() => r.KthLargest(1)); // refinement not fed
    }

    [TestCase("normal", 1)]
    [TestCase("normal", 2)]
    [TestCase("normal", 1001)]
    [TestCase("ties", 4099)]
    [TestCase("denormal", 500)]
    public void QuantilesMatchMathNetR7(string kind, int n)
    {
        // R7 (Hyndman and Fan type 7) is numpy's default linear interpolation.
        var x = Make(kind, n, 7 * n);
        var magnitudes = x.Select(v => (double)MathF.Abs(v)).ToArray();
        double[] qs = [0, 0.01, 0.25, 0.5, 0.9, 0.99, 1];
        var h = new MagnitudeHistogram();
        foreach (var (s, l) in RandomSplits(n, 1)) h.Add(x.AsSpan(s, l));
        var r = h.RefineForQuantiles(qs);
        foreach (var (s, l) in RandomSplits(n, 2)) r.Add(x.AsSpan(s, l));
        foreach (double q in qs)
        {
            double expected = Statistics.QuantileCustom(magnitudes, q, QuantileDefinition.R7);
            Assert.That(r.Quantile(n, q), Is.EqualTo(expected).Within(1e-12 * Math.Max(1e-300, Math.Abs(expected))), $"q = {q}");
        }
    }
}
