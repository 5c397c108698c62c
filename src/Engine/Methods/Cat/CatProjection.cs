using Amalgam.Kernels.Blas;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.Cat;

/// <summary>
/// CAT step 2's trimming of one task vector: T_j &lt;- T_j - T_j B_k B_k^T for each k != j in task
/// order, each time rescaled back to the Frobenius norm T_j had before that projection. For a
/// weight stored transposed (d_out x d_in) the same projection acts from the left:
/// S_j &lt;- S_j - B_k^T (B_k S_j), with B_k's rows r x d_out.
/// </summary>
public static class CatProjection
{
    /// <summary>A projection that leaves less than this share of T_j's norm removed all of it (f32 round-off is ~1e-7).</summary>
    public const double VanishedShare = 1e-5;

    /// <summary>Projects <paramref name="stored"/> in place; returns the share of its norm each projection removed (before rescaling), one per k (0 for k = j).</summary>
    public static double[] Apply(float[] stored, bool storedTransposed, int dIn, int dOut, int j, IReadOnlyList<CatBasis> bases)
    {
        var removed = new double[bases.Count];
        for (int k = 0; k < bases.Count; k++)
        {
            var b = bases[k];
            if (k == j || b.Rank == 0) continue;
            double before = Norm(stored);
            ProjectOut(stored, storedTransposed, dIn, dOut, b);
            double after = Norm(stored);
            removed[k] = before > 0 ? Math.Sqrt(Math.Max(0, before * before - after * after)) / before : 0;
            if (after <= VanishedShare * before)
            {
                // B_k spans T_j's whole row space: what is left is f32 round-off, and rescaling it would
                // blow noise up to the old norm. The projection removed T_j; it stays zero.
                Array.Clear(stored);
                removed[k] = before > 0 ? 1 : 0;
            }
            else
            {
                float scale = (float)(before / after);
                for (long i = 0; i < stored.LongLength; i++) stored[i] *= scale;
            }
        }
        return removed;
    }

    /// <summary>T - T B B^T (no rescaling).</summary>
    public static void ProjectOut(float[] stored, bool storedTransposed, int dIn, int dOut, CatBasis b)
    {
        int r = b.Rank;
        if (!storedTransposed)
        {
            // C = T B^T (d_in x r) with B rows r x d_out; T -= C B.
            var c = new float[(long)dIn * r];
            BlasLevel3.Sgemm(Transpose.No, Transpose.Yes, dIn, r, dOut, 1f, stored, dOut, b.Rows, dOut, 0f, c, r);
            BlasLevel3.Sgemm(Transpose.No, Transpose.No, dIn, dOut, r, -1f, c, r, b.Rows, dOut, 1f, stored, dOut);
        }
        else
        {
            // S = T^T (d_out x d_in): C = B S (r x d_in); S -= B^T C.
            var c = new float[(long)r * dIn];
            BlasLevel3.Sgemm(Transpose.No, Transpose.No, r, dIn, dOut, 1f, b.Rows, dOut, stored, dIn, 0f, c, dIn);
            BlasLevel3.Sgemm(Transpose.Yes, Transpose.No, dOut, dIn, r, -1f, b.Rows, dOut, c, dIn, 1f, stored, dIn);
        }
    }

    public static double Norm(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (float x in v) s += (double)x * x;
        return Math.Sqrt(s);
    }
}
