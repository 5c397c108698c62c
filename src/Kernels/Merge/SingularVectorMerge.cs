using Amalgam.Kernels.Blas;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// The per-matrix math of the SVD-based data-free merges, on K task vectors tau_i of one 2-D tensor
/// (row-major m x n, f32; r = min(m, n); polar(A) = U V^T of A's thin SVD, <see cref="Lapack.Polar"/>):
/// <list type="bullet">
/// <item>TSV-M (Gargiulo et al., CVPR 2025): k = int(r / T) leading singular triplets of every tau_i,
///   stacked: Delta = polar([U_1k .. U_Tk]) diag(s_1k .. s_Tk) polar([V_1k^T; ..; V_Tk^T]). This is
///   the official padded form (zero slots T k .. r - 1) in its compact, exact equivalent.</item>
/// <item>Iso-C (Marczak et al., ICML 2025): Sigma = sum_i tau_i = U S V^T, Delta = mean(S) U V^T.</item>
/// <item>Iso-CTS: k_c common directions of Sigma plus s_t = (r - k_c) / T task-specific directions of each
///   tau_i with the common left subspace projected out, orthogonalised, spectrum flattened to its mean.
///   Projects on the LEFT: the caller passes torch layout (rows = outputs).</item>
/// </list>
/// Sizes follow the official code's integer arithmetic (int() truncates, round() halves to even).
/// Every SVD is LAPACK's sgesdd in f32, as the reference implementations run in f32.
/// </summary>
public static class SingularVectorMerge
{
    /// <summary>TSV-M's Delta of one m x n tensor (every tau_i m*n floats, row-major).</summary>
    public static void Tsv(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta)
    {
        int t = taus.Count, r = Math.Min(m, n);
        int k = (int)(r * (1.0 / t));
        int tk = t * k;
        delta[..(m * n)].Clear();
        if (tk == 0) return;
        var a = new float[(long)m * tk];       // m x Tk: column block i = U_i[:, :k]
        var b = new float[(long)tk * n];       // Tk x n: row block i = V_i^T[:k, :]
        var s = new float[tk];
        for (int i = 0; i < t; i++)
        {
            var (ui, si, vti) = Svd(taus[i], m, n);
            for (int row = 0; row < m; row++)
                Array.Copy(ui, (long)row * r, a, (long)row * tk + i * k, k);
            Array.Copy(si, 0, s, i * k, k);
            Array.Copy(vti, 0, b, (long)i * k * n, (long)k * n);
        }
        var pa = new float[a.Length];
        Lapack.Polar(m, tk, a, pa);
        var pb = new float[b.Length];
        Lapack.Polar(tk, n, b, pb);
        ScaleColumns(pa, m, tk, s);
        BlasLevel3.Sgemm(m, n, tk, pa, pb, delta);
    }

    /// <summary>Iso-C's Delta: mean(S) polar(Sigma) of Sigma = sum_i tau_i (summed in task order, f32).</summary>
    public static void IsoC(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta)
    {
        int r = Math.Min(m, n);
        var (u, s, vt) = Svd(Sum(taus, m * n), m, n);
        FlatSpectrum(MeanOf(s), u, vt, m, n, r, delta);
    }

    /// <summary>The common and per-task sizes of Iso-CTS: k_c + T s_t = r always.</summary>
    public static (int Common, int PerTask) IsoCtsSizes(int r, int taskCount, double commonFraction)
    {
        int kc0 = (int)(r * commonFraction);
        int kts = (int)Math.Round((double)(r - kc0) / taskCount, MidpointRounding.ToEven) * taskCount;
        int kc = r - kts;
        int st = (int)((double)(r - kc) / taskCount);
        return (kc, st);
    }

    /// <summary>Iso-CTS's Delta of one m x n tensor in torch layout (rows = the layer's outputs).</summary>
    public static void IsoCts(IReadOnlyList<float[]> taus, int m, int n, double commonFraction, Span<float> delta)
    {
        int t = taus.Count, r = Math.Min(m, n);
        var (kc, st) = IsoCtsSizes(r, t, commonFraction);
        if (kc < 0 || kc > r) throw new BadInputException($"iso_cts: common_space_fraction={commonFraction} gives {kc} common directions of {r}");
        var (u, s, vt) = Svd(Sum(taus, m * n), m, n);
        var ubar = new float[(long)m * r];
        var sbar = new float[r];
        var vtbar = new float[(long)r * n];
        // Task-specific slots [i s_t, (i + 1) s_t): the leading directions of W_i = tau_i - U_c U_c^T tau_i.
        var uc = new float[(long)m * kc];
        for (int row = 0; row < m; row++) Array.Copy(u, (long)row * r, uc, (long)row * kc, kc);
        if (st > 0)
        {
            var proj = new float[(long)kc * n];
            for (int i = 0; i < t; i++)
            {
                var w = (float[])taus[i].Clone();
                if (kc > 0)
                {
                    BlasLevel3.Sgemm(Blas.Transpose.Yes, Blas.Transpose.No, kc, n, m, 1f, uc, kc, taus[i], n, 0f, proj, n);
                    BlasLevel3.Sgemm(Blas.Transpose.No, Blas.Transpose.No, m, n, kc, -1f, uc, kc, proj, n, 1f, w, n);
                }
                var (ui, si, vti) = Svd(w, m, n);
                for (int row = 0; row < m; row++) Array.Copy(ui, (long)row * r, ubar, (long)row * r + i * st, st);
                Array.Copy(si, 0, sbar, i * st, st);
                Array.Copy(vti, 0, vtbar, (long)i * st * n, (long)st * n);
            }
        }
        // Common slots [T s_t, T s_t + k_c).
        int c0 = t * st;
        for (int row = 0; row < m; row++) Array.Copy(u, (long)row * r, ubar, (long)row * r + c0, kc);
        Array.Copy(s, 0, sbar, c0, kc);
        Array.Copy(vt, 0, vtbar, (long)c0 * n, (long)kc * n);
        var pu = new float[ubar.Length];
        Lapack.Polar(m, r, ubar, pu);
        var pvt = new float[vtbar.Length];
        Lapack.Polar(r, n, vtbar, pvt);
        FlatSpectrum(MeanOf(sbar), pu, pvt, m, n, r, delta);
    }

    /// <summary>The official code's mean of the task vectors (non-2-D tensors): new += (tau_i - new) / (i + 1), in f32.</summary>
    public static void RunningMean(IReadOnlyList<float[]> taus, Span<float> mean)
    {
        mean.Clear();
        for (int i = 0; i < taus.Count; i++)
        {
            float inv = i + 1;
            var tau = taus[i];
            for (int j = 0; j < mean.Length; j++) mean[j] += (tau[j] - mean[j]) / inv;
        }
    }

    private static (float[] U, float[] S, float[] Vt) Svd(float[] matrix, int m, int n)
    {
        int r = Math.Min(m, n);
        var a = (float[])matrix.Clone();
        var u = new float[(long)m * r];
        var s = new float[r];
        var vt = new float[(long)r * n];
        Lapack.Svd(m, n, a, s, u, vt);
        return (u, s, vt);
    }

    private static float[] Sum(IReadOnlyList<float[]> taus, int length)
    {
        var sum = new float[length];
        foreach (var tau in taus)
            for (int j = 0; j < length; j++) sum[j] += tau[j];
        return sum;
    }

    private static float MeanOf(float[] s)
    {
        double total = 0;
        foreach (float x in s) total += x;
        return s.Length == 0 ? 0f : (float)(total / s.Length);
    }

    /// <summary>delta = sigma U V^T (U m x r, V^T r x n): every singular value set to sigma.</summary>
    private static void FlatSpectrum(float sigma, float[] u, float[] vt, int m, int n, int r, Span<float> delta) =>
        BlasLevel3.Sgemm(Transpose.No, Transpose.No, m, n, r, sigma, u, r, vt, n, 0f, delta, n);

    /// <summary>a[:, j] *= scale[j] for the row-major rows x cols matrix a.</summary>
    private static void ScaleColumns(float[] a, int rows, int cols, float[] scale)
    {
        for (int i = 0; i < rows; i++)
        {
            var row = a.AsSpan(i * cols, cols);
            for (int j = 0; j < cols; j++) row[j] *= scale[j];
        }
    }
}
