using Amalgam.Kernels.Merge;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// TSV-M, Iso-C and Iso-CTS on small random layers (K = 3) against float64 implementations written
/// here from the spec's steps (the padded forms of the official code, MathNet's SVD), to 1e-5 relative
/// (Frobenius); and the spec's identities: TSV-M of one full-rank task is that task, Iso-C's
/// singular values are all equal, Iso-CTS's sizes fill r and with no task-specific slot it is Iso-C.
/// </summary>
public sealed class SingularVectorMergeTests
{
    private const double Tolerance = 1e-5;
    private static readonly MatrixBuilder<double> M = Matrix<double>.Build;

    private static float[][] Taus(int t, int m, int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, t).Select(_ => Enumerable.Range(0, m * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    private static Matrix<double> D(float[] a, int m, int n) => M.Dense(m, n, (i, j) => a[i * n + j]);

    private static Matrix<double> Polar(Matrix<double> a)
    {
        var svd = a.Svd(computeVectors: true);
        int r = Math.Min(a.RowCount, a.ColumnCount);
        return svd.U.SubMatrix(0, a.RowCount, 0, r) * svd.VT.SubMatrix(0, r, 0, a.ColumnCount);
    }

    private static void AssertClose(float[] got, Matrix<double> want, string what)
    {
        var g = D(got, want.RowCount, want.ColumnCount);
        double err = (g - want).FrobeniusNorm() / want.FrobeniusNorm();
        TestContext.Out.WriteLine($"{what}: relative error {err:E2}");
        Assert.That(err, Is.LessThan(Tolerance), what);
    }

    /// <summary>The official padded form: U_hat m x r, s_hat r, V_hat^T r x n with blocks of k per task, zero slots after T k.</summary>
    private static Matrix<double> TsvReference(float[][] taus, int m, int n)
    {
        int t = taus.Length, r = Math.Min(m, n), k = (int)(r * (1.0 / t));
        var uHat = M.Dense(m, r);
        var sHat = new double[r];
        var vtHat = M.Dense(r, n);
        for (int i = 0; i < t; i++)
        {
            var svd = D(taus[i], m, n).Svd(computeVectors: true);
            for (int j = 0; j < k; j++)
            {
                uHat.SetColumn(i * k + j, svd.U.Column(j));
                sHat[i * k + j] = svd.S[j];
                vtHat.SetRow(i * k + j, svd.VT.Row(j));
            }
        }
        return Polar(uHat) * M.DenseOfDiagonalArray(sHat) * Polar(vtHat);
    }

    private static Matrix<double> Sum(float[][] taus, int m, int n) => taus.Select(x => D(x, m, n)).Aggregate((a, b) => a + b);

    private static Matrix<double> IsoCReference(float[][] taus, int m, int n)
    {
        var sigma = Sum(taus, m, n);
        var svd = sigma.Svd(computeVectors: true);
        return svd.S.Average() * Polar(sigma);
    }

    private static Matrix<double> IsoCtsReference(float[][] taus, int m, int n, double f)
    {
        int t = taus.Length, r = Math.Min(m, n);
        int kc0 = (int)(r * f);
        int kts = (int)Math.Round((double)(r - kc0) / t, MidpointRounding.ToEven) * t;
        int kc = r - kts, st = (int)((double)(r - kc) / t);
        var svd = Sum(taus, m, n).Svd(computeVectors: true);
        var uc = svd.U.SubMatrix(0, m, 0, kc);
        var ubar = M.Dense(m, r);
        var sbar = new double[r];
        var vtbar = M.Dense(r, n);
        for (int i = 0; i < t; i++)
        {
            var tau = D(taus[i], m, n);
            var w = tau - uc * (uc.Transpose() * tau);
            var wi = w.Svd(computeVectors: true);
            for (int j = 0; j < st; j++)
            {
                ubar.SetColumn(i * st + j, wi.U.Column(j));
                sbar[i * st + j] = wi.S[j];
                vtbar.SetRow(i * st + j, wi.VT.Row(j));
            }
        }
        for (int j = 0; j < kc; j++)
        {
            ubar.SetColumn(t * st + j, svd.U.Column(j));
            sbar[t * st + j] = svd.S[j];
            vtbar.SetRow(t * st + j, svd.VT.Row(j));
        }
        return sbar.Average() * Polar(ubar) * Polar(vtbar);
    }

    [TestCase(12, 9)]
    [TestCase(9, 12)]
    [TestCase(16, 16)]
    public void TsvMMatchesTheFloat64PaddedForm(int m, int n)
    {
        var taus = Taus(3, m, n, seed: m * 7 + n);
        var delta = new float[m * n];
        SingularVectorMerge.Tsv(taus, m, n, delta);
        AssertClose(delta, TsvReference(taus, m, n), $"tsv {m}x{n}");
    }

    [Test]
    public void TsvMOfOneFullRankTaskIsThatTask()
    {
        var taus = Taus(1, 10, 7, seed: 3);
        var delta = new float[70];
        SingularVectorMerge.Tsv(taus, 10, 7, delta);
        AssertClose(delta, D(taus[0], 10, 7), "tsv T=1");
    }

    [TestCase(12, 9)]
    [TestCase(9, 12)]
    public void IsoCMatchesTheFloat64ReferenceAndHasOneSingularValue(int m, int n)
    {
        var taus = Taus(3, m, n, seed: 11 + m);
        var delta = new float[m * n];
        SingularVectorMerge.IsoC(taus, m, n, delta);
        AssertClose(delta, IsoCReference(taus, m, n), $"iso_c {m}x{n}");
        var s = D(delta, m, n).Svd(computeVectors: false).S;
        Assert.That(s.Maximum() - s.Minimum(), Is.LessThan(1e-5 * s.Maximum()), "Iso-C's singular values are all equal");
    }

    [TestCase(12, 9, 0.8)]
    [TestCase(9, 12, 0.5)]
    [TestCase(20, 20, 0.3)]
    public void IsoCtsMatchesTheFloat64Reference(int m, int n, double f)
    {
        var taus = Taus(3, m, n, seed: 5 * m + n);
        var delta = new float[m * n];
        SingularVectorMerge.IsoCts(taus, m, n, f, delta);
        AssertClose(delta, IsoCtsReference(taus, m, n, f), $"iso_cts {m}x{n} f={f}");
    }

    [TestCase(768, 0.8, 8, 616, 19)]
    [TestCase(768, 0.8, 14, 614, 11)]
    [TestCase(768, 0.8, 20, 608, 8)]
    [TestCase(9, 0.8, 3, 6, 1)]   // k_c0 = int(7.2) = 7, K_ts = round(2/3) * 3 = 3
    public void IsoCtsSizesFollowTheOfficialIntegerArithmetic(int r, double f, int t, int common, int perTask)
    {
        Assert.That(SingularVectorMerge.IsoCtsSizes(r, t, f), Is.EqualTo((common, perTask)));
        Assert.That(common + t * perTask, Is.EqualTo(r));
    }

    [Test]
    public void IsoCtsWithoutTaskSpecificSlotsIsIsoC()
    {
        var taus = Taus(3, 9, 6, seed: 21);   // r = 6, f = 0.9: k_c0 = 5, K_ts = round(1/3)*3 = 0, so s_t = 0
        Assert.That(SingularVectorMerge.IsoCtsSizes(6, 3, 0.9).PerTask, Is.Zero);
        var cts = new float[54];
        var c = new float[54];
        SingularVectorMerge.IsoCts(taus, 9, 6, 0.9, cts);
        SingularVectorMerge.IsoC(taus, 9, 6, c);
        AssertClose(cts, D(c, 9, 6), "iso_cts with s_t = 0 vs iso_c");
    }

    [Test]
    public void RunningMeanIsTheMean()
    {
        var taus = Taus(3, 1, 50, seed: 2);
        var mean = new float[50];
        SingularVectorMerge.RunningMean(taus, mean);
        for (int j = 0; j < 50; j++) Assert.That(mean[j], Is.EqualTo((taus[0][j] + (double)taus[1][j] + taus[2][j]) / 3).Within(1e-6));
    }
}
