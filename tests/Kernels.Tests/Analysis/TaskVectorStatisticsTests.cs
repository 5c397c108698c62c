using Amalgam.Kernels.Analysis;
using Amalgam.Kernels.Simd;
using Amalgam.Kernels.Tests.Simd;
using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Analysis;

/// <summary>
/// <see cref="TaskVectorStatistics"/>: sign conflicts counted at each vector width alone (then the
/// scalar tail) equal a plain count written here, on tiles with +-0, NaN, +-inf, ties and noise; the
/// dot product equals a float64 sum within its rounding, and is the same at every length split.
/// </summary>
public class TaskVectorStatisticsTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from width in VectorWidthCases.Widths
        from n in VectorWidthCases.Lengths
        select new TestCaseData(width, n);

    /// <summary>The definition: both strictly non-zero (not NaN), and one negative, one positive.</summary>
    private static (long Conflicts, long Both) Reference(float[] a, float[] b)
    {
        long conflicts = 0, both = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int sa = a[i] > 0 ? 1 : a[i] < 0 ? -1 : 0, sb = b[i] > 0 ? 1 : b[i] < 0 ? -1 : 0;
            if (sa == 0 || sb == 0) continue;
            both++;
            if (sa != sb) conflicts++;
        }
        return (conflicts, both);
    }

    [TestCaseSource(nameof(Cases))]
    public void SignConflictsAtEveryWidthEqualThePlainCount(string widthName, int n)
    {
        var width = VectorWidthCases.RequireAccelerated(widthName);
        var rng = new System.Random(n * 31 + widthName.Length);
        float[] a = VectorWidthCases.Tile(rng, n), b = VectorWidthCases.Tile(rng, n);
        Assert.That(TaskVectorStatistics.SignConflicts(a, b, width), Is.EqualTo(Reference(a, b)));
    }

    [Test]
    public void HandCountedCase()
    {
        float[] a = [1, -2, 0, -0f, 3, float.NaN, -1, 5];
        float[] b = [2, 3, 1, -1, -4, 1, -1, 0];
        // both non-zero at 0, 1, 4, 6; signs differ at 1 and 4.
        Assert.That(TaskVectorStatistics.SignConflicts(a, b), Is.EqualTo((2L, 4L)));
    }

    [Test]
    public void DotEqualsFloat64SumWithinItsRounding([Values(0, 1, 7, 64, 1000, 70001)] int n)
    {
        var rng = new System.Random(n + 5);
        float[] a = [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        float[] b = [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        double reference = 0, magnitude = 0;
        for (int i = 0; i < n; i++)
        {
            reference += (double)a[i] * b[i];
            magnitude += Math.Abs((double)a[i] * b[i]);
        }
        Assert.That(TaskVectorStatistics.Dot(a, b), Is.EqualTo(reference).Within(1e-14 * magnitude + 1e-300));
    }

    [Test]
    public void LengthsMustAgree()
    {
        Assert.Throws<ArgumentException>(() => TaskVectorStatistics.SignConflicts(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => TaskVectorStatistics.Dot(new float[3], new float[4]));
    }
}
