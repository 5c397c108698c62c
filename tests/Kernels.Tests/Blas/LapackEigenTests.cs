using Amalgam.Kernels.Blas;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Blas.DenseReference;

namespace Amalgam.Kernels.Tests.Blas;

/// <summary>
/// ssyevd/ssyevr wrappers against MathNet's float64 eigen solver and matrices with a known
/// spectrum. The unused triangle and row padding hold NaN, so reading them would show.
/// </summary>
[TestFixture]
public class LapackEigenTests
{
    [TestCase(Triangle.Upper)]
    [TestCase(Triangle.Lower)]
    public void SsyevdReconstructsAWithOrthonormalVectors(Triangle uplo)
    {
        var rng = new Random(100 + (int)uplo);
        const int n = 37, lda = 41;
        var m = Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() * 2 - 1);
        float[] a = TriangleOnly(m + m.Transpose(), lda, uplo == Triangle.Upper);
        var ad = SymmetricFromTriangle(a, n, lda, uplo == Triangle.Upper);
        double[] expected = SymmetricEigenvalues(ad);
        double norm = expected.Max(Math.Abs), tol = 10 * n * FloatEps;
        float[] w = new float[n];

        Lapack.Ssyevd(uplo, n, a, lda, w);

        for (int i = 0; i < n; i++) Assert.That(w[i], Is.EqualTo(expected[i]).Within(tol * norm), $"eigenvalue {i}");
        var v = ToDouble(a, n, n, lda); // row j = eigenvector j
        var gram = v * v.Transpose();
        Assert.That(MaxAbs(gram - Matrix<double>.Build.DenseIdentity(n)), Is.LessThan(tol), "V V^T != I");
        var rebuilt = v.Transpose() * Matrix<double>.Build.DenseOfDiagonalArray(w.Select(x => (double)x).ToArray()) * v;
        Assert.That(MaxAbs(rebuilt - ad), Is.LessThan(tol * norm), "V^T diag(w) V != A");
        for (int i = 0; i < n; i++)
            for (int j = n; j < lda; j++) Assert.That(a[i * lda + j], Is.NaN, $"padding A[{i},{j}] was written");
    }

    [Test]
    public void SsyevdEigenvaluesOnlyMatchDouble()
    {
        var rng = new Random(7);
        const int n = 24;
        var m = Matrix<double>.Build.Dense(n, n, (_, _) => rng.NextDouble() * 2 - 1);
        float[] a = TriangleOnly(m + m.Transpose(), n, upper: false);
        double[] expected = SymmetricEigenvalues(SymmetricFromTriangle(a, n, n, upper: false));
        float[] w = new float[n];
        Lapack.Ssyevd(Triangle.Lower, n, a, n, w, computeVectors: false);
        double tol = 10 * n * FloatEps * expected.Max(Math.Abs);
        for (int i = 0; i < n; i++) Assert.That(w[i], Is.EqualTo(expected[i]).Within(tol), $"eigenvalue {i}");
    }

    /// <summary>Known spectrum -2.0, -1.9, ..., spaced 0.1 so eigenvectors are well conditioned.</summary>
    private static (float[] A, Matrix<double> Q, double[] Values) KnownSpectrum(int seed, int n, int lda, bool upper)
    {
        var rng = new Random(seed);
        var q = RandomOrthogonal(rng, n);
        double[] values = Enumerable.Range(0, n).Select(i => -2 + 0.1 * i).ToArray();
        return (TriangleOnly(WithSpectrum(q, values), lda, upper), q, values);
    }

    /// <summary>Checks ascending values, unit vectors matching Q's columns up to sign, and A v = w v.</summary>
    private static void AssertPairs(float[] w, float[] z, int count, int firstIndex, Matrix<double> q, double[] values, Matrix<double> ad)
    {
        int n = q.RowCount;
        // Rounding A to float perturbs it by ~eps*|A|; the 0.1 gap bounds the vector error to ~eps*|A|/0.1.
        double valueTol = 10 * n * FloatEps * 2, vectorTol = 1e-4;
        for (int j = 0; j < count; j++)
        {
            Assert.That(w[j], Is.EqualTo(values[firstIndex + j]).Within(valueTol), $"eigenvalue {j}");
            if (z.Length == 0) continue;
            var v = Vector<double>.Build.Dense(n, i => z[j * n + i]);
            var reference = q.Column(firstIndex + j);
            double sign = Math.Sign(v.DotProduct(reference));
            Assert.That(MaxAbs(v - sign * reference), Is.LessThan(vectorTol), $"eigenvector {j} vs known");
            Assert.That(MaxAbs(ad * v - w[j] * v), Is.LessThan(vectorTol), $"A v != w v for pair {j}");
        }
    }

    [TestCase(Triangle.Upper)]
    [TestCase(Triangle.Lower)]
    public void SsyevrLargestMatchesTopOfFullDecomposition(Triangle uplo)
    {
        const int n = 40, lda = 43, c = 5;
        bool upper = uplo == Triangle.Upper;
        var (a, q, values) = KnownSpectrum(1, n, lda, upper);
        var ad = SymmetricFromTriangle(a, n, lda, upper);
        float[] full = (float[])a.Clone(), wFull = new float[n];
        Lapack.Ssyevd(uplo, n, full, lda, wFull);

        float[] w = new float[c], z = new float[c * n];
        int found = Lapack.Ssyevr(uplo, n, a, lda, EigenSelection.Largest(c), w, z);

        Assert.That(found, Is.EqualTo(c));
        AssertPairs(w, z, c, n - c, q, values, ad);
        for (int j = 0; j < c; j++)
        {
            int k = n - c + j;
            Assert.That(w[j], Is.EqualTo(wFull[k]).Within(10 * n * FloatEps * 2), $"eigenvalue {j} vs ssyevd");
            double dot = 0;
            for (int i = 0; i < n; i++) dot += (double)z[j * n + i] * full[k * lda + i];
            Assert.That(Math.Abs(dot), Is.EqualTo(1).Within(1e-4), $"eigenvector {j} vs ssyevd (up to sign)");
        }
    }

    [Test]
    public void SsyevrByIndexSmallestAndAllSelectTheRightPairs()
    {
        const int n = 33;
        var (a, q, values) = KnownSpectrum(2, n, n, upper: true);
        var ad = SymmetricFromTriangle(a, n, n, upper: true);
        foreach (var (selection, first, count) in new[]
                 {
                     (EigenSelection.ByIndex(3, 9), 3, 7),
                     (EigenSelection.Smallest(4), 0, 4),
                     (EigenSelection.All, 0, n),
                 })
        {
            float[] work = (float[])a.Clone(), w = new float[selection.MaxCount(n)], z = new float[selection.MaxCount(n) * n];
            int found = Lapack.Ssyevr(Triangle.Upper, n, work, n, selection, w, z);
            Assert.That(found, Is.EqualTo(count), selection.ToString());
            AssertPairs(w, z, count, first, q, values, ad);
        }
    }

    [Test]
    public void SsyevrByValueFindsEigenvaluesInTheHalfOpenInterval()
    {
        const int n = 30;
        var (a, q, values) = KnownSpectrum(3, n, n, upper: false);
        var ad = SymmetricFromTriangle(a, n, n, upper: false);
        // Spectrum -2.0, -1.9, ...: (-1.05, -0.45] holds -1.0 .. -0.5, indices 10..15.
        float[] w = new float[n], z = new float[n * n];
        int found = Lapack.Ssyevr(Triangle.Lower, n, a, n, EigenSelection.ByValue(-1.05f, -0.45f), w, z);
        Assert.That(found, Is.EqualTo(values.Count(v => v > -1.05 && v <= -0.45)));
        Assert.That(found, Is.EqualTo(6));
        AssertPairs(w, z, found, 10, q, values, ad);
    }

    [Test]
    public void SsyevrEigenvaluesOnlyWhenNoVectorBuffer()
    {
        const int n = 20;
        var (a, q, values) = KnownSpectrum(4, n, n, upper: true);
        var ad = SymmetricFromTriangle(a, n, n, upper: true);
        float[] w = new float[3];
        int found = Lapack.Ssyevr(Triangle.Upper, n, a, n, EigenSelection.Largest(3), w, Span<float>.Empty);
        Assert.That(found, Is.EqualTo(3));
        AssertPairs(w, [], 3, n - 3, q, values, ad);
    }

    [Test]
    public void SsyevrRejectsOutOfRangeSelectionAndShortOutputs()
    {
        float[] a = new float[16], w = new float[4], z = new float[16];
        Assert.Throws<ArgumentOutOfRangeException>(() => Lapack.Ssyevr(Triangle.Upper, 4, a, 4, EigenSelection.Largest(5), new float[5], new float[20]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lapack.Ssyevr(Triangle.Upper, 4, a, 4, EigenSelection.ByIndex(2, 4), w, z));
        Assert.Throws<ArgumentException>(() => Lapack.Ssyevr(Triangle.Upper, 4, a, 4, EigenSelection.All, w, new float[15]));
        Assert.Throws<ArgumentException>(() => Lapack.Ssyevd(Triangle.Upper, 4, a, 4, new float[3]));
    }
}
