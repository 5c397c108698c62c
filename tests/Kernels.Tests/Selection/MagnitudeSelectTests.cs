using Amalgam.Kernels.Selection;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Selection.SelectionData;

namespace Amalgam.Kernels.Tests.Selection;

public class MagnitudeSelectTests
{
    // 5000 and 9000 exceed the sort cut-over, so the histogram path runs too.
    private static IEnumerable<TestCaseData> Cases() =>
        from kind in Kinds
        from n in new[] { 0, 1, 7, 16, 63, 1000, 5000, 9000 }
        select new TestCaseData(kind, n);

    private static long[] Keeps(int n) => new long[] { 0, 1, n / 2, n - 1, n, n + 5 }.Where(k => k >= 0).Distinct().ToArray();

    [TestCaseSource(nameof(Cases))]
    public void KthLargestEqualsFullSort(string kind, int n)
    {
        if (n == 0) return;
        var x = Make(kind, n, 3 * n);
        var sorted = MagnitudesDescending(x);
        foreach (long k in new long[] { 1, n, (n + 1) / 2 })
            Assert.That(BitConverter.SingleToUInt32Bits(MagnitudeSelect.KthLargest(x, k)), Is.EqualTo(sorted[k - 1]), $"rank {k}");
    }

    [TestCaseSource(nameof(Cases))]
    public void TopKKeepsExactlyTheFirstRanksLowerIndexWinsTies(string kind, int n)
    {
        var x = Make(kind, n, 5 * n + 1);
        var order = RankOrder(x);
        foreach (long keep in Keeps(n))
        {
            var expected = new byte[n];
            foreach (int i in order.Take((int)Math.Min(keep, n))) expected[i] = 1;
            var mask = new byte[n];
            MagnitudeSelect.TopKMask(x, keep, mask);
            Assert.That(mask, Is.EqualTo(expected), $"keep {keep}");
            var y = (float[])x.Clone();
            MagnitudeSelect.TopKInPlace(y, keep);
            for (int i = 0; i < n; i++)
                Assert.That(BitConverter.SingleToUInt32Bits(y[i]), Is.EqualTo(expected[i] == 1 ? BitConverter.SingleToUInt32Bits(x[i]) : 0u), $"keep {keep}, element {i}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void DropBottomTopKeepsTheMiddleRanks(string kind, int n)
    {
        var x = Make(kind, n, 11 * n + 2);
        var order = RankOrder(x);
        (long Bot, long Top)[] drops = [(0, 0), (1, 1), (n / 10, n / 100), (n / 2, n / 2), (n, 0), (0, n), (n, n)];
        foreach (var (bot, top) in drops)
        {
            var y = (float[])x.Clone();
            MagnitudeSelect.DropBottomTopInPlace(y, bot, top);
            var keepIndices = new HashSet<int>(order.Skip((int)top).Take((int)Math.Max(0, n - bot - top)));
            for (int i = 0; i < n; i++)
                Assert.That(BitConverter.SingleToUInt32Bits(y[i]), Is.EqualTo(keepIndices.Contains(i) ? BitConverter.SingleToUInt32Bits(x[i]) : 0u),
                    $"drop bottom {bot}, top {top}, element {i}");
        }
    }

    [Test]
    public void TopKAllEqualKeepsTheLowestIndices()
    {
        var x = Enumerable.Repeat(-3f, 6000).ToArray();
        var mask = new byte[x.Length];
        MagnitudeSelect.TopKMask(x, 2500, mask);
        Assert.That(mask.Take(2500).All(b => b == 1) && mask.Skip(2500).All(b => b == 0), Is.True);
    }

    [Test]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudeSelect.KthLargest([1f], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudeSelect.TopKInPlace(new float[3], -1));
        Assert.Throws<ArgumentException>(() => MagnitudeSelect.TopKMask(new float[3], 1, new byte[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MagnitudeSelect.DropBottomTopInPlace(new float[3], -1, 0));
    }
}
