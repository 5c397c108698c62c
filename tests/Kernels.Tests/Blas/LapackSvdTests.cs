using Amalgam.Kernels.Blas;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Blas.DenseReference;

namespace Amalgam.Kernels.Tests.Blas;

/// <summary>
/// Svd (sgesdd on the row-major matrix) against float64: U and V orthonormal, U S V^T = A, and the
/// singular values equal MathNet's float64 ones; Polar = U V^T against MathNet's factors (sign-free).
/// </summary>
[TestFixture]
public class LapackSvdTests
{
    [TestCase(7, 7)]
    [TestCase(12, 5)]
    [TestCase(5, 12)]
    [TestCase(64, 48)]
    [TestCase(1, 9)]
    public void SvdRebuildsAWithOrthonormalFactors(int m, int n)
    {
        int r = Math.Min(m, n);
        var rng = new Random(m * 100 + n);
        float[] a = Random(rng, m, n, n);
        var ad = ToDouble(a, m, n, n);
        float[] s = new float[r], u = new float[m * r], vt = new float[r * n];

        Lapack.Svd(m, n, a, s, u, vt);

        var ud = ToDouble(u, m, r, r);
        var vtd = ToDouble(vt, r, n, n);
        double tol = 20 * Math.Max(m, n) * FloatEps;
        Assert.That(MaxAbs(ud.Transpose() * ud - Matrix<double>.Build.DenseIdentity(r)), Is.LessThan(tol), "U^T U != I");
        Assert.That(MaxAbs(vtd * vtd.Transpose() - Matrix<double>.Build.DenseIdentity(r)), Is.LessThan(tol), "V^T V != I");
        var sd = Matrix<double>.Build.DenseOfDiagonalArray(s.Select(x => (double)x).ToArray());
        Assert.That(MaxAbs(ud * sd * vtd - ad), Is.LessThan(tol * MaxAbs(ad) * Math.Sqrt(r)), "U S V^T != A");
        var want = ad.Svd(computeVectors: false).S;
        for (int i = 0; i < r; i++) Assert.That(s[i], Is.EqualTo(want[i]).Within(tol * want[0]), $"s[{i}]");
        for (int i = 1; i < r; i++) Assert.That(s[i], Is.LessThanOrEqualTo(s[i - 1]), "descending");
    }

    [TestCase(9, 9)]
    [TestCase(20, 6)]
    [TestCase(6, 20)]
    public void PolarIsUVTransposeOfTheFloat64Svd(int m, int n)
    {
        var rng = new Random(m + 31 * n);
        float[] a = Random(rng, m, n, n);
        var svd = ToDouble(a, m, n, n).Svd(computeVectors: true);
        int r = Math.Min(m, n);
        var want = svd.U.SubMatrix(0, m, 0, r) * svd.VT.SubMatrix(0, r, 0, n);
        float[] polar = new float[m * n];

        Lapack.Polar(m, n, a, polar);

        Assert.That(MaxAbs(ToDouble(polar, m, n, n) - want), Is.LessThan(200 * Math.Max(m, n) * FloatEps));
    }

    [Test]
    public void NonFiniteInputIsRefused()
    {
        float[] a = [1, 2, float.NaN, 4];
        Assert.Throws<ArgumentException>(() => Lapack.Svd(2, 2, a, new float[2], new float[4], new float[4]));
    }
}
