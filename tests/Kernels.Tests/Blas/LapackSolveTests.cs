using Amalgam.Kernels.Blas;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Blas.DenseReference;

namespace Amalgam.Kernels.Tests.Blas;

/// <summary>sposv and sgelsd wrappers against float64 solves of the same (float-rounded) inputs.</summary>
[TestFixture]
public class LapackSolveTests
{
    /// <summary>Row-major float block holding B (m x nrhs) in the given layout, NaN padding.</summary>
    private static float[] Pack(Matrix<double> b, RhsLayout layout, int ld) =>
        ToFloat(layout == RhsLayout.Columns ? b : b.Transpose(), ld);

    /// <summary>Reads a solution (rows x nrhs) back from the layout it was written in.</summary>
    private static Matrix<double> Unpack(float[] x, int rows, int nrhs, RhsLayout layout, int ld) =>
        layout == RhsLayout.Columns ? ToDouble(x, rows, nrhs, ld) : ToDouble(x, nrhs, rows, ld).Transpose();

    [TestCase(Triangle.Upper, RhsLayout.Columns)]
    [TestCase(Triangle.Lower, RhsLayout.Columns)]
    [TestCase(Triangle.Upper, RhsLayout.Rows)]
    [TestCase(Triangle.Lower, RhsLayout.Rows)]
    public void SposvMatchesDoubleSolve(Triangle uplo, RhsLayout layout)
    {
        var rng = new Random(200 + 2 * (int)uplo + (int)layout);
        const int n = 31, nrhs = 3, lda = n + 2;
        bool upper = uplo == Triangle.Upper;
        var m = Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() * 2 - 1);
        float[] a = TriangleOnly(m.TransposeThisAndMultiply(m) / n + 0.05 * Matrix<double>.Build.DenseIdentity(n), lda, upper);
        var ad = SymmetricFromTriangle(a, n, lda, upper);
        int ldb = (layout == RhsLayout.Columns ? nrhs : n) + 4;
        float[] b = Pack(Matrix<double>.Build.Dense(n, nrhs, (_, _) => rng.NextDouble() * 2 - 1), layout, ldb);
        var expected = ad.Cholesky().Solve(Unpack(b, n, nrhs, layout, ldb));

        Lapack.Sposv(uplo, n, nrhs, a, lda, b, ldb, layout);

        var x = Unpack(b, n, nrhs, layout, ldb);
        double tol = 10 * n * FloatEps * ad.ConditionNumber();
        Assert.That(MaxAbs(x - expected) / MaxAbs(expected), Is.LessThan(tol));
        int rows = layout == RhsLayout.Columns ? n : nrhs, width = layout == RhsLayout.Columns ? nrhs : n;
        for (int i = 0; i < rows; i++)
            for (int j = width; j < ldb; j++) Assert.That(b[i * ldb + j], Is.NaN, $"padding B[{i},{j}] was written");
    }

    [TestCase(RhsLayout.Columns)]
    [TestCase(RhsLayout.Rows)]
    public void SposvReportsTheFirstNonPositiveMinorAndLeavesBUnchanged(RhsLayout layout)
    {
        // diag(1, 2, -3, 4) with a small coupling: leading minors of order 1 and 2 are positive, order 3 is not.
        const int n = 4;
        float[] a0 = [1, 0.1f, 0, 0, 0.1f, 2, 0.1f, 0, 0, 0.1f, -3, 0.1f, 0, 0, 0.1f, 4];
        float[] b0 = [1, 2, 3, 4];
        float[] a = (float[])a0.Clone(), b = (float[])b0.Clone();
        var e = Assert.Throws<NotPositiveDefiniteException>(() => Lapack.Sposv(Triangle.Upper, n, 1, a, n, b, layout == RhsLayout.Columns ? 1 : n, layout));
        Assert.That(e!.FailedMinorOrder, Is.EqualTo(3));
        Assert.That(e.Routine, Is.EqualTo("sposv"));
        Assert.That(e.Message, Does.Contain("order 3"));
        Assert.That(b, Is.EqualTo(b0).AsCollection);

        a = (float[])a0.Clone();
        bool ok = Lapack.TrySposv(Triangle.Lower, n, 1, a, n, b, layout == RhsLayout.Columns ? 1 : n, out int minor, layout);
        Assert.That(ok, Is.False);
        Assert.That(minor, Is.EqualTo(3));
        Assert.That(b, Is.EqualTo(b0).AsCollection);
    }

    [Test]
    public void NonFiniteEntriesInTheReadTriangleAreRejectedByPosition()
    {
        // OpenBLAS's Cholesky would return INFO = 0 and a NaN solution; the wrapper refuses instead.
        float[] a = [4, 1, 0, 1, 3, float.NaN, 0, 1, 2], b = [1, 2, 3];
        var e = Assert.Throws<ArgumentException>(() => Lapack.Sposv(Triangle.Upper, 3, 1, a, 3, b, 1));
        Assert.That(e!.Message, Does.Contain("(1, 2)"));
        Assert.That(b, Is.EqualTo(new float[] { 1, 2, 3 }).AsCollection);
        // The same NaN in the unused (lower) triangle is never read.
        float[] lowerNaN = [4, 1, 0, float.NaN, 3, 1, 0, float.NaN, 2];
        Lapack.Sposv(Triangle.Upper, 3, 1, lowerNaN, 3, b, 1);
        Assert.That(b, Has.All.Not.NaN);
        float[] inf = [1, 0, float.PositiveInfinity, 1];
        Assert.Throws<ArgumentException>(() => Lapack.Ssyevd(Triangle.Lower, 2, inf, 2, new float[2]));
        Assert.Throws<ArgumentException>(() => Lapack.Ssyevr(Triangle.Lower, 2, inf, 2, EigenSelection.All, new float[2], new float[4]));
        Assert.Throws<ArgumentException>(() => Lapack.Sgelsd(2, 2, 1, inf, 2, [1f, 1f], 1, new float[2], 1, -1));
    }

    [Test]
    public void TrySposvDetectsARandomIndefiniteMatrix()
    {
        var rng = new Random(9);
        const int n = 25;
        double[] values = Enumerable.Range(0, n).Select(i => i == 12 ? -0.5 : 1.0 + i).ToArray();
        float[] a = TriangleOnly(WithSpectrum(RandomOrthogonal(rng, n), values), n, upper: true);
        float[] b = new float[n * 2];
        Assert.That(Lapack.TrySposv(Triangle.Upper, n, 2, a, n, b, 2, out int minor), Is.False);
        Assert.That(minor, Is.InRange(1, n));
    }

    public static IEnumerable<TestCaseData> LeastSquaresCases()
    {
        foreach (var layout in new[] { RhsLayout.Columns, RhsLayout.Rows })
        {
            yield return new TestCaseData(41, 17, 17, layout).SetName($"Overdetermined_{layout}");
            yield return new TestCaseData(13, 29, 13, layout).SetName($"Underdetermined_{layout}");
            yield return new TestCaseData(30, 20, 7, layout).SetName($"RankDeficientTall_{layout}");
            yield return new TestCaseData(15, 25, 6, layout).SetName($"RankDeficientWide_{layout}");
        }
    }

    [TestCaseSource(nameof(LeastSquaresCases))]
    public void SgelsdMatchesDoubleMinimumNormLeastSquares(int m, int n, int rank, RhsLayout layout)
    {
        var rng = new Random(m * 100 + n + (int)layout);
        const int nrhs = 3;
        const float rcond = 1e-4f;
        Matrix<double> RandomMatrix(int r, int c) => Matrix<double>.Build.Dense(r, c, (_, _) => rng.NextDouble() * 2 - 1);
        var shaped = rank == Math.Min(m, n) ? RandomMatrix(m, n) : RandomMatrix(m, rank) * RandomMatrix(rank, n);
        int lda = n + 3;
        float[] a = ToFloat(shaped, lda);
        int ldb = (layout == RhsLayout.Columns ? nrhs : m) + 2, ldx = (layout == RhsLayout.Columns ? nrhs : n) + 5;
        float[] b = Pack(RandomMatrix(m, nrhs), layout, ldb);
        float[] x = new float[(layout == RhsLayout.Columns ? n : nrhs) * ldx], s = new float[Math.Min(m, n)];
        Array.Fill(x, float.NaN);
        float[] a0 = (float[])a.Clone(), b0 = (float[])b.Clone();
        var ad = ToDouble(a, m, n, lda);
        var bd = Unpack(b, m, nrhs, layout, ldb);
        var (expected, expectedRank) = MinNormLeastSquares(ad, bd, rcond);

        int found = Lapack.Sgelsd(m, n, nrhs, a, lda, b, ldb, x, ldx, rcond, s, layout);

        Assert.That(expectedRank, Is.EqualTo(rank), "reference rank (test setup)");
        Assert.That(found, Is.EqualTo(rank));
        var svd = ad.Svd(computeVectors: false);
        for (int i = 0; i < s.Length; i++)
            Assert.That(s[i], Is.EqualTo(svd.S[i]).Within(10 * Math.Max(m, n) * FloatEps * svd.S[0]), $"singular value {i}");
        // Least-squares perturbation bound: eps * (kappa + kappa^2 * |r| / (|A| |x|)), kappa over the kept rank.
        double kappa = svd.S[0] / svd.S[rank - 1];
        double residual = (ad * expected - bd).FrobeniusNorm();
        double bound = 10 * Math.Max(m, n) * FloatEps * (kappa + kappa * kappa * residual / (svd.S[0] * expected.FrobeniusNorm()));
        var xd = Unpack(x, n, nrhs, layout, ldx);
        Assert.That((xd - expected).FrobeniusNorm() / expected.FrobeniusNorm(), Is.Not.NaN.And.LessThan(bound));
        int rows = layout == RhsLayout.Columns ? n : nrhs, width = layout == RhsLayout.Columns ? nrhs : n;
        for (int i = 0; i < rows; i++)
            for (int j = width; j < ldx; j++) Assert.That(x[i * ldx + j], Is.NaN, $"padding X[{i},{j}] was written");
        Assert.That(a, Is.EqualTo(a0).AsCollection, "A was modified");
        Assert.That(b, Is.EqualTo(b0).AsCollection, "B was modified");
    }

    [Test]
    public void SgelsdSolvesASquareSystemExactly()
    {
        // Hand-computed: [[2, 1], [1, 3]] x = [3, 5] has x = [0.8, 1.4].
        float[] a = [2, 1, 1, 3], b = [3, 5], x = new float[2];
        int rank = Lapack.Sgelsd(2, 2, 1, a, 2, b, 1, x, 1, -1f);
        Assert.That(rank, Is.EqualTo(2));
        Assert.That(x[0], Is.EqualTo(0.8).Within(1e-6));
        Assert.That(x[1], Is.EqualTo(1.4).Within(1e-6));
    }
}
