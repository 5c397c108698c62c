using Amalgam.Kernels.Blas;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Blas.DenseReference;

namespace Amalgam.Kernels.Tests.Blas;

/// <summary>
/// QrOfTranspose (sgeqrf + sorgqr) against float64 arithmetic: Q's columns orthonormal, Q R = A^T,
/// R upper triangular, and the R^T R = A A^T identity checked against MathNet. Row padding holds NaN
/// and must come back untouched (and unread: a read NaN would poison Q).
/// </summary>
[TestFixture]
public class LapackQrTests
{
    [TestCase(5, 17, 23)]
    [TestCase(40, 40, 45)]
    [TestCase(1, 9, 9)]
    [TestCase(30, 200, 203)]
    public void QrOfTransposeRebuildsAWithOrthonormalQ(int m, int n, int lda)
    {
        var rng = new Random(m * 1000 + n);
        float[] a = Random(rng, m, n, lda);
        var ad = ToDouble(a, m, n, lda);
        int rStride = m + 3;
        float[] r = new float[m * rStride];
        Array.Fill(r, float.NaN);

        Lapack.QrOfTranspose(m, n, a, lda, r, rStride);

        var qt = ToDouble(a, m, n, lda); // row j = column j of Q
        var rd = ToDouble(r, m, m, rStride);
        double tol = 20 * Math.Max(m, n) * FloatEps;
        Assert.That(MaxAbs(qt * qt.Transpose() - Matrix<double>.Build.DenseIdentity(m)), Is.LessThan(tol), "Q^T Q != I");
        double norm = MaxAbs(ad);
        Assert.That(MaxAbs(qt.Transpose() * rd - ad.Transpose()), Is.LessThan(tol * norm * Math.Sqrt(m)), "Q R != A^T");
        for (int i = 0; i < m; i++)
            for (int j = 0; j < i; j++) Assert.That(r[i * rStride + j], Is.EqualTo(0f), $"R[{i},{j}] below the diagonal");
        var gram = ad * ad.Transpose();
        Assert.That(MaxAbs(rd.Transpose() * rd - gram), Is.LessThan(tol * MaxAbs(gram)), "R^T R != A A^T");
        for (int i = 0; i < m; i++)
        {
            for (int j = n; j < lda; j++) Assert.That(a[i * lda + j], Is.NaN, $"padding A[{i},{j}] was written");
            for (int j = m; j < rStride; j++) Assert.That(r[i * rStride + j], Is.NaN, $"padding R[{i},{j}] was written");
        }
    }

    [Test]
    public void RankDeficientInputStillGivesOrthonormalQ()
    {
        var rng = new Random(3);
        const int m = 6, n = 20;
        float[] a = Random(rng, m, n, n);
        // Row 4 = row 0 + row 1, row 5 = 0: rank 4.
        for (int j = 0; j < n; j++) { a[4 * n + j] = a[j] + a[n + j]; a[5 * n + j] = 0; }
        var ad = ToDouble(a, m, n, n);
        float[] r = new float[m * m];

        Lapack.QrOfTranspose(m, n, a, n, r, m);

        var qt = ToDouble(a, m, n, n);
        var rd = ToDouble(r, m, m, m);
        double tol = 20 * n * FloatEps;
        Assert.That(MaxAbs(qt * qt.Transpose() - Matrix<double>.Build.DenseIdentity(m)), Is.LessThan(tol), "Q^T Q != I");
        Assert.That(MaxAbs(qt.Transpose() * rd - ad.Transpose()), Is.LessThan(tol * MaxAbs(ad) * m), "Q R != A^T");
    }

    [Test]
    public void RejectsMoreRowsThanColumnsAndNonFinite()
    {
        float[] a = new float[12], r = new float[16];
        Assert.Throws<ArgumentException>(() => Lapack.QrOfTranspose(4, 3, a, 3, r, 4));
        a[5] = float.NaN;
        var e = Assert.Throws<ArgumentException>(() => Lapack.QrOfTranspose(3, 4, a, 4, r, 3));
        Assert.That(e!.Message, Does.Contain("(1, 1)"));
    }

    [TestCase(7, 31, 33, 3)]
    [TestCase(20, 50, 50, 20)]
    [TestCase(4, 4, 6, 2)]
    public void MultiplyByImplicitQMatchesExplicitQ(int m, int n, int lda, int count)
    {
        var rng = new Random(m + 17 * n);
        float[] a = Random(rng, m, n, lda);
        float[] explicitQ = (float[])a.Clone();
        float[] r = new float[m * m], r2 = new float[m * m], tau = new float[m];
        Lapack.QrOfTransposeReflectors(m, n, a, lda, r, m, tau);
        Lapack.QrOfTranspose(m, n, explicitQ, lda, r2, m);
        Assert.That(r, Is.EqualTo(r2), "same R either way");
        int vStride = m + 2, outStride = n + 1;
        float[] v = Random(rng, count, m, vStride);
        float[] result = new float[count * outStride];
        Array.Fill(result, float.NaN);

        Lapack.MultiplyByQOfTranspose(m, n, a, lda, tau, count, v, vStride, result, outStride);

        var expected = ToDouble(v, count, m, vStride) * ToDouble(explicitQ, m, n, lda); // (Q V^T)^T = V Q^T
        Assert.That(MaxAbs(ToDouble(result, count, n, outStride) - expected), Is.LessThan(50 * n * FloatEps), "V Q^T");
        for (int i = 0; i < count; i++) Assert.That(result[i * outStride + n], Is.NaN, $"padding of row {i} was written");
    }
}
