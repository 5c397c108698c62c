using Amalgam.Kernels;
using Amalgam.Kernels.Blas;

namespace Amalgam.Engine.Methods.CatMerging;

/// <summary>How many eigenvectors of G_k span B_k: the top <see cref="Rank"/>, all positive ones, or
/// (when <see cref="Energy"/> &gt; 0) the fewest top ones holding that share of the sum of squared
/// positive eigenvalues. Only eigenvectors of positive eigenvalues are ever kept.</summary>
public sealed record BasisRule(int Rank, bool AllPositive, double Energy);

/// <summary>B_k of one linear weight for one task: r orthonormal rows of length d_out.</summary>
public sealed record CatBasis(int Rank, int DOut, float[] Rows, float LargestEigenvalue);

/// <summary>
/// CAT step 2's bases for one linear weight. With T_i the effective d_in x d_out task vectors and X_k
/// task k's stacked inputs (n_k x d_in),
/// G_k = sum_{i != k} T_i^T (X_k^T X_k - lambda X_i^T X_i) T_i = sum_{i != k} Y_ki^T Y_ki - lambda sum_{i != k} Y_ii^T Y_ii
/// with Y_ki = X_k T_i (n_k x d_out): a few small products and rank-n updates (ssyrk, f32) instead
/// of d_in^2 d_out products per pair. B_k = eigenvectors of G_k's largest eigenvalues (ssyevr).
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
        var bases = new CatBasis[k];
        var g = new float[(long)dOut * dOut];
        for (int t = 0; t < k; t++)
        {
            Array.Clear(g);
            int nt = rows[t].Length / dIn;
            for (int i = 0; i < k; i++)
            {
                if (i == t) continue;
                var y = Project(rows[t], tasks[i], storedTransposed, dIn, dOut);
                BlasLevel3.Ssyrk(Triangle.Upper, Transpose.Yes, dOut, nt, 1f, y, dOut, 1f, g, dOut);
            }
            for (int i = 0; i < k; i++)
            {
                if (i == t) continue;
                int ni = rows[i].Length / dIn;
                BlasLevel3.Ssyrk(Triangle.Upper, Transpose.Yes, dOut, ni, (float)-lambda, own[i], dOut, 1f, g, dOut);
            }
            timings?.Grams.Stop();
            timings?.Eigen.Start();
            bases[t] = TopEigenvectors(g, dOut, rule);
            timings?.Eigen.Stop();
            timings?.Grams.Start();
        }
        timings?.Grams.Stop();
        return bases;
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
