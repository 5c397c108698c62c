using Amalgam.Kernels.Blas;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.Cat;

/// <summary>How many eigenvectors of G_k span B_k: the top <see cref="Rank"/>, all positive ones, or
/// (when <see cref="Energy"/> &gt; 0) the fewest top ones holding that share of the sum of squared
/// positive eigenvalues. Only eigenvectors of positive eigenvalues are ever kept.</summary>
public sealed record BasisRule(int Rank, bool AllPositive, double Energy);

/// <summary>How <see cref="CatBases.WeightedGramBasis"/> finds the eigenvectors: forming G, via the m x m reduced problem, or whichever is cheaper.</summary>
public enum GramEigenPath { Auto, Full, Reduced }

/// <summary>B_k of one linear weight for one task: r orthonormal rows of length d_out.</summary>
public sealed record CatBasis(int Rank, int DOut, float[] Rows, float LargestEigenvalue);

/// <summary>
/// CAT step 2's bases for one linear weight. With T_i the effective d_in x d_out task vectors and X_k
/// task k's stacked inputs (n_k x d_in),
/// G_k = sum_{i != k} T_i^T (X_k^T X_k - lambda X_i^T X_i) T_i = sum_{i != k} Y_ki^T Y_ki - lambda sum_{i != k} Y_ii^T Y_ii
/// with Y_ki = X_k T_i (n_k x d_out): a few small products and rank-n updates (ssyrk, f32) instead
/// of d_in^2 d_out products per pair. B_k = eigenvectors of G_k's largest eigenvalues (ssyevr), found
/// through the m x m reduced problem when the m = 2 (K-1) n stacked rows are fewer than d_out
/// (<see cref="WeightedGramBasis"/>).
/// </summary>
public static class CatBases
{
    /// <param name="tasks">T_i in the STORED layout (d_in x d_out, or d_out x d_in when <paramref name="storedTransposed"/>).</param>
    /// <param name="rows">X_k per task, n_k x d_in row-major.</param>
    public static CatBasis[] Compute(IReadOnlyList<float[]> tasks, bool storedTransposed, int dIn, int dOut,
        IReadOnlyList<float[]> rows, double lambda, BasisRule rule, CatTimings? timings = null)
    {
        int k = tasks.Count;
        timings?.Grams.Start();
        var own = new float[k][];
        for (int i = 0; i < k; i++) own[i] = Project(rows[i], tasks[i], storedTransposed, dIn, dOut);
        timings?.Grams.Stop();
        var bases = new CatBasis[k];
        for (int t = 0; t < k; t++)
        {
            timings?.Grams.Start();
            var blocks = new List<float[]>();
            var weights = new List<float>();
            for (int i = 0; i < k; i++)
            {
                if (i == t) continue;
                blocks.Add(Project(rows[t], tasks[i], storedTransposed, dIn, dOut));
                weights.Add(1f);
            }
            for (int i = 0; i < k; i++)
            {
                if (i == t) continue;
                blocks.Add(own[i]);
                weights.Add((float)-lambda);
            }
            timings?.Grams.Stop();
            bases[t] = WeightedGramBasis(blocks, weights, dOut, rule, GramEigenPath.Auto, timings);
        }
        return bases;
    }

    /// <summary>
    /// B of G = sum_j w_j A_j^T A_j (d_out x d_out) for blocks A_j (n_j x d_out row-major).
    /// <see cref="GramEigenPath.Full"/> forms G (ssyrk) and decomposes it: O(d_out^3).
    /// <see cref="GramEigenPath.Reduced"/> is exact too: with A the m = sum n_j stacked rows and
    /// S = diag(w_j repeated n_j times), G = A^T S A; every eigenvector of G with a non-zero
    /// eigenvalue lies in A's row space, and the thin QR A^T = Q R gives G = Q (R S R^T) Q^T, so the
    /// m x m matrix M = R S R^T has G's non-zero eigenvalues and eigenvectors v mapping to Q v:
    /// O(d_out m^2 + m^3). <see cref="GramEigenPath.Auto"/> takes Reduced when 0 &lt; m &lt; d_out.
    /// Reduced never returns eigenvectors of G's null space, which the full path may return (as
    /// round-off sized positive eigenvalues) under the all-positive or energy rules.
    /// </summary>
    public static CatBasis WeightedGramBasis(IReadOnlyList<float[]> blocks, IReadOnlyList<float> weights, int dOut,
        BasisRule rule, GramEigenPath path = GramEigenPath.Auto, CatTimings? timings = null)
    {
        long total = blocks.Sum(b => (long)b.Length / Math.Max(1, dOut));
        bool reduced = path == GramEigenPath.Reduced || (path == GramEigenPath.Auto && total > 0 && total < dOut);
        if (reduced && total > dOut) throw new ArgumentException($"the reduced eigenproblem needs at most d_out = {dOut} rows, got {total}", nameof(path));
        return reduced ? ReducedBasis(blocks, weights, (int)total, dOut, rule, timings) : FullBasis(blocks, weights, dOut, rule, timings);
    }

    private static CatBasis FullBasis(IReadOnlyList<float[]> blocks, IReadOnlyList<float> weights, int dOut, BasisRule rule, CatTimings? timings)
    {
        timings?.Grams.Start();
        var g = new float[(long)dOut * dOut];
        for (int j = 0; j < blocks.Count; j++)
            BlasLevel3.Ssyrk(Triangle.Upper, Transpose.Yes, dOut, blocks[j].Length / Math.Max(1, dOut), weights[j], blocks[j], Math.Max(1, dOut), 1f, g, Math.Max(1, dOut));
        timings?.Grams.Stop();
        timings?.Eigen.Start();
        var basis = TopEigenvectors(g, dOut, rule);
        timings?.Eigen.Stop();
        return basis;
    }

    private static CatBasis ReducedBasis(IReadOnlyList<float[]> blocks, IReadOnlyList<float> weights, int m, int dOut, BasisRule rule, CatTimings? timings)
    {
        if (m == 0) return new CatBasis(0, dOut, [], 0f); // G = 0: no positive eigenvalue.
        timings?.Eigen.Start();
        var a = new float[(long)m * dOut];
        long offset = 0;
        foreach (var b in blocks)
        {
            b.CopyTo(a, offset);
            offset += b.Length;
        }
        var r = new float[(long)m * m];
        var tau = new float[m];
        // Q stays implicit (Householder reflectors in a): only the kept eigenvectors are mapped by it.
        Lapack.QrOfTransposeReflectors(m, dOut, a, dOut, r, m, tau);
        // M = R S R^T = sum_j w_j R_j R_j^T with R_j block j's columns of R (upper triangle only,
        // which is all ssyevr reads, so M is exactly symmetric).
        var mm = new float[(long)m * m];
        int col = 0;
        for (int j = 0; j < blocks.Count; j++)
        {
            int nj = blocks[j].Length / dOut;
            if (nj > 0) BlasLevel3.Ssyrk(Triangle.Upper, Transpose.No, m, nj, weights[j], r.AsSpan(col), m, 1f, mm, m);
            col += nj;
        }
        var small = TopEigenvectors(mm, m, rule);
        // B = V Q^T: each kept eigenvector v (length m) maps to Q v (length d_out), still orthonormal.
        var rows = new float[(long)small.Rank * dOut];
        Lapack.MultiplyByQOfTranspose(m, dOut, a, dOut, tau, small.Rank, small.Rows, m, rows, dOut);
        timings?.Eigen.Stop();
        return new CatBasis(small.Rank, dOut, rows, small.LargestEigenvalue);
    }

    /// <summary>Y = X T (n x d_out) for T stored d_in x d_out or, transposed, d_out x d_in.</summary>
    public static float[] Project(float[] x, float[] stored, bool storedTransposed, int dIn, int dOut)
    {
        int n = x.Length / dIn;
        var y = new float[(long)n * dOut];
        BlasLevel3.Sgemm(Transpose.No, storedTransposed ? Transpose.Yes : Transpose.No, n, dOut, dIn, 1f,
            x, Math.Max(1, dIn), stored, storedTransposed ? Math.Max(1, dIn) : Math.Max(1, dOut), 0f, y, Math.Max(1, dOut));
        return y;
    }

    /// <summary>The kept eigenvectors of the symmetric matrix whose upper triangle is in <paramref name="g"/> (destroyed).</summary>
    public static CatBasis TopEigenvectors(float[] g, int n, BasisRule rule)
    {
        if (n == 0) return new CatBasis(0, n, [], 0f);
        bool all = rule.AllPositive || rule.Energy > 0;
        var selection = all ? EigenSelection.ByValue(0f, float.MaxValue) : EigenSelection.Largest(Math.Min(rule.Rank, n));
        int max = selection.MaxCount(n);
        var values = new float[max];
        var vectors = new float[(long)max * n];
        int found = Lapack.Ssyevr(Triangle.Upper, n, g, n, selection, values, vectors);
        // Ascending; keep positive ones, largest first.
        var keep = new List<int>();
        for (int j = found - 1; j >= 0; j--)
            if (values[j] > 0) keep.Add(j);
        if (rule.Energy > 0 && keep.Count > 0)
        {
            double total = keep.Sum(j => (double)values[j] * values[j]), sum = 0;
            int r = 0;
            while (r < keep.Count && sum < rule.Energy * total) sum += (double)values[keep[r]] * values[keep[r++]];
            keep = keep.Take(Math.Max(r, 1)).ToList();
        }
        var rows = new float[(long)keep.Count * n];
        for (int r = 0; r < keep.Count; r++) vectors.AsSpan(keep[r] * n, n).CopyTo(rows.AsSpan(r * n, n));
        return new CatBasis(keep.Count, n, rows, keep.Count > 0 ? values[keep[0]] : 0f);
    }
}
