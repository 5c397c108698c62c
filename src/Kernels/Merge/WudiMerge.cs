using Amalgam.Kernels.Blas;
using Amalgam.Kernels.Optim;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// WUDI-Merging's per-matrix optimisation (Cheng et al., ICML 2025; official code
/// nathanielyvo/WUDI-Merging, FusionBench wudi), data-free: for the K task vectors tau_i of one
/// m x n tensor in torch layout (rows = outputs), start at tau_m = sum_i tau_i and run Adam on
///   L(tau_m) = sum_i ||(tau_m - tau_i) tau_i^T||_F^2 / ||tau_i||_F^2,
///   dL/dtau_m = sum_i (2 / ||tau_i||^2) ((tau_m - tau_i) tau_i^T) tau_i,
/// as the official loop does (PyTorch Adam, lr 1e-5, betas 0.9/0.999, eps 1e-8, no decay; 300 steps).
/// The products are f32 sgemm (the official runs fp32), the squared norms float64 rounded once.
/// A task vector of zero norm is left out of the loss (the official code would divide by zero).
/// </summary>
public static class WudiMerge
{
    /// <summary>Writes the optimised tau_m (m x n) into <paramref name="merged"/>; returns the final loss.</summary>
    public static double Optimise(IReadOnlyList<float[]> taus, int m, int n, int steps, float learningRate, Span<float> merged)
    {
        int len = m * n;
        var tm = new float[len];
        foreach (var tau in taus)
            for (int j = 0; j < len; j++) tm[j] += tau[j];
        var weights = taus.Select(t => Norm2(t)).Select(x => x > 0 ? (float)(2.0 / x) : 0f).ToArray();
        var g = new float[len];
        var d = new float[len];
        var inner = new float[(long)m * m];   // also the loss's (tau_m - tau_i) tau_i^T
        var m1 = new float[len];
        var v = new float[len];
        var adam = new AdamSettings(learningRate, 0.9f, 0.999f, 1e-8f, 0f);
        float[][]? grams = null;
        if (m > n)
        {
            grams = new float[taus.Count][];
            for (int i = 0; i < taus.Count; i++)
            {
                grams[i] = new float[(long)n * n];
                BlasLevel3.Sgemm(Transpose.Yes, Transpose.No, n, n, m, 1f, taus[i], n, taus[i], n, 0f, grams[i], n);
            }
        }
        for (int step = 1; step <= steps; step++)
        {
            Gradient(taus, weights, m, n, tm, d, inner, g, grams);
            Adam.Step(tm, g, m1, v, adam, step);
        }
        tm.CopyTo(merged);
        return Loss(taus, weights, m, n, tm, d, inner);
    }

    /// <summary>
    /// g = sum_i w_i (tau_m - tau_i) tau_i^T tau_i, associated the cheaper way: through the m x m product
    /// (tau_m - tau_i) tau_i^T when m &lt;= n (4 m^2 n flops per task), else through the n x n Gram matrices
    /// tau_i^T tau_i computed once (2 m n^2 per task and step).
    /// </summary>
    private static void Gradient(IReadOnlyList<float[]> taus, float[] weights, int m, int n, float[] tm, float[] d, float[] inner, float[] g,
        float[][]? grams)
    {
        Array.Clear(g);
        for (int i = 0; i < taus.Count; i++)
        {
            if (weights[i] == 0f) continue;
            Difference(tm, taus[i], d);
            if (grams is not null)
            {
                BlasLevel3.Sgemm(Transpose.No, Transpose.No, m, n, n, weights[i], d, n, grams[i], n, 1f, g, n);   // += w_i d (tau_i^T tau_i)
                continue;
            }
            BlasLevel3.Sgemm(Transpose.No, Transpose.Yes, m, m, n, 1f, d, n, taus[i], n, 0f, inner, m);          // (tau_m - tau_i) tau_i^T
            BlasLevel3.Sgemm(Transpose.No, Transpose.No, m, n, m, weights[i], inner, m, taus[i], n, 1f, g, n);   // += w_i inner tau_i
        }
    }

    private static double Loss(IReadOnlyList<float[]> taus, float[] weights, int m, int n, float[] tm, float[] d, float[] inner)
    {
        double loss = 0;
        for (int i = 0; i < taus.Count; i++)
        {
            if (weights[i] == 0f) continue;
            Difference(tm, taus[i], d);
            BlasLevel3.Sgemm(Transpose.No, Transpose.Yes, m, m, n, 1f, d, n, taus[i], n, 0f, inner, m);
            loss += Norm2(inner) * (weights[i] / 2.0);
        }
        return loss;
    }

    private static void Difference(float[] a, float[] b, float[] d)
    {
        for (int j = 0; j < d.Length; j++) d[j] = a[j] - b[j];
    }

    private static double Norm2(float[] x)
    {
        double s = 0;
        foreach (float v in x) s += (double)v * v;
        return s;
    }
}
