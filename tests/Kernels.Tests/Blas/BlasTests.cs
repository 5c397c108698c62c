using Amalgam.Kernels.Blas;
using Amalgam.Kernels.Tests.Blas;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Blas.DenseReference;

namespace Amalgam.Kernels.Tests.Blas;

/// <summary>OpenBLAS loading and the level-3 BLAS wrappers, checked against float64 loops.</summary>
[TestFixture]
public class BlasTests
{
    [Test]
    public void OpenBlasLoadsFromTheSystemLibrary()
    {
        Assert.That(OpenBlas.TryLoad(out string error), Is.True, error);
        Assert.That(OpenBlas.Configuration, Does.Contain("OpenBLAS"), "the loaded library is not OpenBLAS");
        Assert.That(OpenBlas.LibraryPath, Does.Contain("openblas"));
    }

    [Test]
    public void MissingLibraryGivesOneLineMessageWithTheFix()
    {
        var table = OpenBlasNative.TryLoad(["/nonexistent/libopenblas.so.0"], out string error);
        Assert.That(table, Is.Null);
        Assert.That(error, Does.Contain("/nonexistent/libopenblas.so.0"));
        Assert.That(error, Does.Contain("./build.sh --target=Bootstrap"));
        Assert.That(error, Does.Contain("apt-get install libopenblas0-pthread"));
        Assert.That(error, Does.Not.Contain('\n'));
    }

    [Test]
    public void LibraryWithoutTheExportsIsRejectedByName()
    {
        var table = OpenBlasNative.TryLoad(["libc.so.6"], out string error);
        Assert.That(table, Is.Null);
        Assert.That(error, Does.Contain("libc.so.6: does not export cblas_sgemm"));
    }

    [Test]
    public void EnvironmentOverrideIsTheOnlyCandidateAndDefaultsAvoidReferenceLapack()
    {
        Assert.That(OpenBlasNative.CandidatePaths("/opt/x/libopenblas.so"), Is.EqualTo(new[] { "/opt/x/libopenblas.so" }));
        var defaults = OpenBlasNative.CandidatePaths(null);
        Assert.That(defaults, Is.Not.Empty);
        Assert.That(defaults, Has.All.Contain("openblas"));
    }

    [Test]
    public void ThreadCountCanBeSetAndRead()
    {
        Assume.That(OpenBlas.CanControlThreads, "this OpenBLAS build has no thread control");
        int before = OpenBlas.ThreadCount;
        try
        {
            OpenBlas.ThreadCount = 1;
            Assert.That(OpenBlas.ThreadCount, Is.EqualTo(1));
        }
        finally
        {
            OpenBlas.ThreadCount = before;
        }
    }

    // Odd, non-square sizes; leading dimensions wider than the rows; alpha/beta not 0/1.
    [TestCase(Transpose.No, Transpose.No)]
    [TestCase(Transpose.No, Transpose.Yes)]
    [TestCase(Transpose.Yes, Transpose.No)]
    [TestCase(Transpose.Yes, Transpose.Yes)]
    public void SgemmMatchesDoubleReference(Transpose ta, Transpose tb)
    {
        var rng = new Random(17 + 2 * (int)ta + (int)tb);
        const int m = 37, n = 23, k = 51;
        const float alpha = 0.75f, beta = -1.5f;
        (int aRows, int aCols) = ta == Transpose.No ? (m, k) : (k, m);
        (int bRows, int bCols) = tb == Transpose.No ? (k, n) : (n, k);
        int lda = aCols + 5, ldb = bCols + 3, ldc = n + 7;
        float[] a = Random(rng, aRows, aCols, lda), b = Random(rng, bRows, bCols, ldb), c = Random(rng, m, n, ldc);
        float[] c0 = (float[])c.Clone();

        BlasLevel3.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, absSum = 0;
                for (int l = 0; l < k; l++)
                {
                    double x = ta == Transpose.No ? a[i * lda + l] : a[l * lda + i];
                    double y = tb == Transpose.No ? b[l * ldb + j] : b[j * ldb + l];
                    sum += x * y;
                    absSum += Math.Abs(x * y);
                }
                double expected = alpha * sum + beta * (double)c0[i * ldc + j];
                // Standard float dot-product error bound, with a safety factor of 2.
                double bound = 2 * (k + 2) * FloatEps * (Math.Abs(alpha) * absSum + Math.Abs(beta * c0[i * ldc + j]));
                Assert.That(c[i * ldc + j], Is.EqualTo(expected).Within(bound), $"C[{i},{j}]");
            }
            for (int j = n; j < ldc; j++) Assert.That(c[i * ldc + j], Is.NaN, $"padding C[{i},{j}] was written");
        }
    }

    [Test]
    public void SgemmWithBetaZeroIgnoresNaNsInC()
    {
        var rng = new Random(5);
        const int m = 9, n = 11, k = 7;
        float[] a = Random(rng, m, k, k), b = Random(rng, k, n, n);
        float[] c = new float[m * n];
        Array.Fill(c, float.NaN);
        BlasLevel3.Sgemm(m, n, k, a, b, c);
        var expected = ToDouble(a, m, k, k) * ToDouble(b, k, n, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                Assert.That(c[i * n + j], Is.EqualTo(expected[i, j]).Within(2 * (k + 2) * FloatEps * k));
    }

    [Test]
    public void SgemmRejectsShortSpansAndNarrowLeadingDimensions()
    {
        float[] a = new float[6], b = new float[6], c = new float[4];
        // A is 2x3 (6 floats) but lda 4 needs (2-1)*4+3 = 7.
        Assert.Throws<ArgumentException>(() => BlasLevel3.Sgemm(Transpose.No, Transpose.No, 2, 2, 3, 1, a, 4, b, 2, 0, c, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlasLevel3.Sgemm(Transpose.No, Transpose.No, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2));
        Assert.Throws<ArgumentException>(() => BlasLevel3.Sgemm(Transpose.No, Transpose.No, 2, 2, 3, 1, a, 3, a, 2, 0, a.AsSpan(), 2));
    }

    [TestCase(Triangle.Upper, Transpose.Yes)]
    [TestCase(Triangle.Lower, Transpose.Yes)]
    [TestCase(Triangle.Upper, Transpose.No)]
    [TestCase(Triangle.Lower, Transpose.No)]
    public void SsyrkMatchesDoubleGramOnItsTriangleOnly(Triangle uplo, Transpose trans)
    {
        var rng = new Random(31 + (int)uplo * 2 + (int)trans);
        const int n = 29, k = 43;
        const float alpha = 1.25f, beta = 0.5f;
        (int aRows, int aCols) = trans == Transpose.Yes ? (k, n) : (n, k);
        int lda = aCols + 4, ldc = n + 3;
        float[] a = Random(rng, aRows, aCols, lda), c = Random(rng, n, n, ldc);
        float[] c0 = (float[])c.Clone();

        BlasLevel3.Ssyrk(uplo, trans, n, k, alpha, a, lda, beta, c, ldc);

        var ad = ToDouble(a, aRows, aCols, lda);
        var product = trans == Transpose.Yes ? ad.TransposeThisAndMultiply(ad) : ad.TransposeAndMultiply(ad);
        var absA = ad.PointwiseAbs();
        var absProduct = trans == Transpose.Yes ? absA.TransposeThisAndMultiply(absA) : absA.TransposeAndMultiply(absA);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                bool inTriangle = uplo == Triangle.Upper ? j >= i : j <= i;
                if (!inTriangle)
                {
                    Assert.That(c[i * ldc + j], Is.EqualTo(c0[i * ldc + j]), $"C[{i},{j}] outside the triangle changed");
                    continue;
                }
                double expected = alpha * product[i, j] + beta * (double)c0[i * ldc + j];
                double bound = 2 * (k + 2) * FloatEps * (alpha * absProduct[i, j] + Math.Abs(beta * c0[i * ldc + j]));
                Assert.That(c[i * ldc + j], Is.EqualTo(expected).Within(bound), $"C[{i},{j}]");
            }
        }
    }

    [Test]
    public void GramIsFullSymmetricATransposeA()
    {
        var rng = new Random(3);
        const int rows = 33, n = 19;
        float[] a = Random(rng, rows, n, n), g = new float[n * n];
        BlasLevel3.Gram(rows, n, a, g);
        var expected = ToDouble(a, rows, n, n).TransposeThisAndMultiply(ToDouble(a, rows, n, n));
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.That(g[i * n + j], Is.EqualTo(g[j * n + i]), $"G[{i},{j}] not symmetric");
                Assert.That(g[i * n + j], Is.EqualTo(expected[i, j]).Within(2 * (rows + 2) * FloatEps * rows));
            }
        }
    }

    [TestCase(Triangle.Upper)]
    [TestCase(Triangle.Lower)]
    public void MirrorTriangleCopiesExactlyAcrossTheDiagonal(Triangle source)
    {
        // Size over two tiles so tile edges are crossed; each entry distinct.
        const int n = 70, ldc = 73;
        float[] c = new float[n * ldc];
        for (int i = 0; i < c.Length; i++) c[i] = i;
        float[] c0 = (float[])c.Clone();
        BlasLevel3.MirrorTriangle(source, n, c, ldc);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                bool kept = source == Triangle.Upper ? j >= i : j <= i;
                float expected = kept ? c0[i * ldc + j] : c0[j * ldc + i];
                Assert.That(c[i * ldc + j], Is.EqualTo(expected), $"C[{i},{j}]");
            }
            for (int j = n; j < ldc && i < n - 1; j++) Assert.That(c[i * ldc + j], Is.EqualTo(c0[i * ldc + j]));
        }
    }

    [Test]
    public void SgemmIsBitIdenticalAcrossRepeatsAtAFixedThreadCount()
    {
        // OpenBLAS's bits DO depend on its thread count (1 vs 2 threads differ by an ulp in many
        // entries), so determinism means: keep OpenBlas.ThreadCount fixed for a run. This checks
        // that a fixed count reproduces exactly, even after the pool ran with another count.
        Assume.That(OpenBlas.CanControlThreads, "this OpenBLAS build has no thread control");
        var rng = new Random(11);
        const int n = 300; // large enough that OpenBLAS splits the work across threads
        float[] a = Random(rng, n, n, n), b = Random(rng, n, n, n);
        float[] first = new float[n * n], other = new float[n * n], again = new float[n * n];
        int before = OpenBlas.ThreadCount;
        try
        {
            OpenBlas.ThreadCount = 2;
            BlasLevel3.Sgemm(n, n, n, a, b, first);
            OpenBlas.ThreadCount = 1;
            BlasLevel3.Sgemm(n, n, n, a, b, other);
            OpenBlas.ThreadCount = 2;
            BlasLevel3.Sgemm(n, n, n, a, b, again);
        }
        finally
        {
            OpenBlas.ThreadCount = before;
        }
        Assert.That(again, Is.EqualTo(first).AsCollection);
    }

    [Test]
    public void ConcurrentCallersGetTheSameBitsAsSerialCalls()
    {
        // The engine may run independent solves on several .NET threads at once.
        var rng = new Random(23);
        const int n = 160, callers = 4;
        float[][] a = new float[callers][], b = new float[callers][], serial = new float[callers][], parallel = new float[callers][];
        for (int t = 0; t < callers; t++)
        {
            a[t] = Random(rng, n, n, n);
            b[t] = Random(rng, n, n, n);
            serial[t] = new float[n * n];
            parallel[t] = new float[n * n];
            BlasLevel3.Sgemm(n, n, n, a[t], b[t], serial[t]);
        }
        Parallel.For(0, callers, new ParallelOptions { MaxDegreeOfParallelism = callers }, t =>
        {
            for (int repeat = 0; repeat < 3; repeat++) BlasLevel3.Sgemm(n, n, n, a[t], b[t], parallel[t]);
        });
        for (int t = 0; t < callers; t++) Assert.That(parallel[t], Is.EqualTo(serial[t]).AsCollection, $"caller {t}");
    }
}
