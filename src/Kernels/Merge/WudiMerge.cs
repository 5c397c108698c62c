using Amalgam.Kernels.Blas;
using Amalgam.Kernels.Optim;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// WUDI-Merging's per-matrix optimisation (Cheng et al., ICML 2025; official code
/// nathanielyvo/WUDI-Merging, FusionBench wudi), data-free: for the K task vectors tau_i of one
/// m x n tensor in torch layout (rows = outputs), start at tau_m = sum_i tau_i and run Adam on
///   L(tau_m) = sum_i a_i ||(tau_m - tau_i) tau_i^T||_F^2,   a_i = 1 / ||tau_i||_F^2,
///   dL/dtau_m = 2 sum_i a_i ((tau_m - tau_i) tau_i^T) tau_i,
/// as the official loop does (PyTorch Adam, lr 1e-5, betas 0.9/0.999, eps 1e-8, no decay; 300 steps).
/// A task vector of zero norm is left out of the loss (the official code would divide by zero).
/// <para>
/// The gradient is the official one, associated so that a step costs one product instead of 2K (the
/// official loop recomputes every term each step). Adam runs on delta = tau_m - s, s = sum_i tau_i (the
/// same updates, as Adam's step does not depend on the parameter's value without weight decay), and
/// with D_i = s - tau_i the constant parts are computed once (f32 products summed in float64, rounded once;
/// the products by row block in parallel too):
/// <list type="bullet">
/// <item>Gram form, when n &lt;= 2 K m and n &lt;= <see cref="MaxGramColumns"/>: with G_i = tau_i^T tau_i (n x n), A = sum_i a_i G_i and
/// E = sum_i a_i D_i G_i, dL/dtau_m = 2 (delta A + E): 2 m n^2 flops per step whatever K.</item>
/// <item>Row form otherwise (wide matrices, few tasks, or n x n too large to hold): with P_i = D_i tau_i^T (m x m),
/// dL/dtau_m = 2 sum_i a_i (P_i + delta tau_i^T) tau_i: 4 K m^2 n flops per step, no n x n matrix.</item>
/// </list>
/// So with one task (D_1 = 0) the gradient is exactly zero and tau_m stays tau_1, as in the official loop.
/// Row r of the gradient depends only on row r of delta and Adam is elementwise, so the rows are optimised
/// in fixed blocks of <see cref="BlockRows"/> rows, in parallel: the same bits at any thread count (the caller
/// pins OpenBLAS to one thread). Products are f32 sgemm (the official runs fp32).
/// </para>
/// </summary>
public static class WudiMerge
{
    /// <summary>
    /// Rows per independently optimised block of an m x n tensor: a function of n only, never of the thread count,
    /// so results do not depend on threads. 64, times n / 1024 up to 8: each block's product packs the whole
    /// n x n A (37 MB at n = 3072), so wider tensors get fewer, taller blocks (at 64 rows the packing of fc2's A
    /// made a step 1.36x its sgemm's time).
    /// </summary>
    public static int BlockRows(int n) => 64 * Math.Clamp(n / 1024, 1, 8);

    /// <summary>Widest n for the Gram form: it holds about 16 n^2 bytes (A in float64 while summed), 268 MB at 4096.</summary>
    public const int MaxGramColumns = 4096;

    /// <summary>
    /// Writes the optimised tau_m (m x n) into <paramref name="merged"/>; returns the final loss L(tau_m)
    /// (Gram form: L(s) + tr(delta A delta^T) + 2 tr(delta E^T), L(s) computed directly, in float64).
    /// </summary>
    public static double Optimise(IReadOnlyList<float[]> taus, int m, int n, int steps, float learningRate, Span<float> merged, int threads = 0)
    {
        int len = checked(m * n);
        if (merged.Length != len) throw new ArgumentException($"merged has {merged.Length} elements, expected {m} x {n}");
        var sum = new float[len];
        foreach (var tau in taus)
            for (int j = 0; j < len; j++) sum[j] += tau[j];
        var active = taus.Select(t => (Tau: t, Norm2: Norm2(t))).Where(x => x.Norm2 > 0)
            .Select(x => (x.Tau, A: 1.0 / x.Norm2)).ToArray();
        if (active.Length == 0 || len == 0)
        {
            sum.CopyTo(merged);
            return 0;
        }
        IStepGradient form = n <= 2L * active.Length * m && n <= MaxGramColumns ? GramForm.Create(active, sum, m, n, threads) : RowForm.Create(active, sum, m, n, threads);
        var adam = new AdamSettings(learningRate, 0.9f, 0.999f, 1e-8f, 0f);
        var delta = new float[len];
        var plan = new ChunkPlan(m, BlockRows(n));
        var blockLoss = new double[plan.ChunkCount];
        ParallelChunks.For(plan, block =>
        {
            int r0 = (int)block.Start, rows = (int)block.Length;
            var x = delta.AsSpan(r0 * n, rows * n);
            var g = new float[rows * n];
            var m1 = new float[rows * n];
            var v = new float[rows * n];
            var scratch = form.Scratch(rows);
            for (int step = 1; step <= steps; step++)
            {
                form.Gradient(r0, rows, x, g, scratch);
                Adam.Step(x, g, m1, v, adam, step);
            }
            blockLoss[block.Index] = form.Loss(r0, rows, x, g, scratch);
        }, threads);
        for (int j = 0; j < len; j++) merged[j] = sum[j] + delta[j];
        double loss = form.InitialLoss;
        foreach (double b in blockLoss) loss += b;
        return loss;
    }

    /// <summary>The gradient of L for rows [r0, r0 + rows) of delta, and those rows' part of L - <see cref="InitialLoss"/>.</summary>
    private interface IStepGradient
    {
        /// <summary>L(s) for the Gram form (which adds the rest per block); 0 for the row form (which computes L per block).</summary>
        double InitialLoss { get; }
        float[] Scratch(int rows);
        void Gradient(int r0, int rows, ReadOnlySpan<float> x, Span<float> g, float[] scratch);
        double Loss(int r0, int rows, ReadOnlySpan<float> x, Span<float> g, float[] scratch);
    }

    /// <summary>dL/dtau_m = 2 (delta A + E) with A = sum a_i G_i, E = sum a_i D_i G_i.</summary>
    private sealed class GramForm(int n, float[] a, float[] e, double initialLoss) : IStepGradient
    {
        /// <summary>A, E and L(s), task by task: G_i on one thread, then D_i G_i in parallel row blocks.</summary>
        public static GramForm Create((float[] Tau, double A)[] tasks, float[] sum, int m, int n, int threads)
        {
            var aSum = new double[(long)n * n];
            var eSum = new double[(long)m * n];
            var gram = new float[(long)n * n];
            var plan = new ChunkPlan(m, BlockRows(n));
            var blockLoss = new double[plan.ChunkCount];
            foreach (var (tau, ai) in tasks)
            {
                BlasLevel3.Gram(m, n, tau, gram);                                  // G_i = tau_i^T tau_i
                for (long j = 0; j < gram.Length; j++) aSum[j] += ai * gram[j];
                ParallelChunks.For(plan, block =>
                {
                    int start = (int)block.Start * n, length = (int)block.Length * n, rows = (int)block.Length;
                    var d = Difference(sum, tau, start, length);
                    var product = new float[length];
                    BlasLevel3.Sgemm(rows, n, n, d, gram, product);                          // D_i G_i
                    double li = 0;
                    for (int j = 0; j < length; j++)
                    {
                        eSum[start + j] += ai * product[j];
                        li += (double)d[j] * product[j];                                     // tr(D_i G_i D_i^T) = ||D_i tau_i^T||^2
                    }
                    blockLoss[block.Index] += ai * li;
                }, threads);
            }
            double initial = 0;
            foreach (double b in blockLoss) initial += b;
            return new GramForm(n, Rounded(aSum), Rounded(eSum), initial);
        }

        public double InitialLoss => initialLoss;

        public float[] Scratch(int rows) => [];

        public void Gradient(int r0, int rows, ReadOnlySpan<float> x, Span<float> g, float[] scratch)
        {
            e.AsSpan(r0 * n, rows * n).CopyTo(g);
            BlasLevel3.Sgemm(Transpose.No, Transpose.No, rows, n, n, 2f, x, n, a, n, 2f, g, n);    // 2 delta A + 2 E
        }

        /// <summary>sum over the block's rows of delta_r . (delta_r A) + 2 delta_r . E_r.</summary>
        public double Loss(int r0, int rows, ReadOnlySpan<float> x, Span<float> g, float[] scratch)
        {
            BlasLevel3.Sgemm(Transpose.No, Transpose.No, rows, n, n, 1f, x, n, a, n, 0f, g, n);
            var eBlock = e.AsSpan(r0 * n, rows * n);
            double s = 0;
            for (int j = 0; j < g.Length; j++) s += (double)x[j] * (g[j] + 2.0 * eBlock[j]);
            return s;
        }
    }

    /// <summary>dL/dtau_m = 2 sum_i a_i (P_i + delta tau_i^T) tau_i with P_i = D_i tau_i^T.</summary>
    private sealed class RowForm((float[] Tau, double A)[] tasks, int m, int n, float[][] p) : IStepGradient
    {
        public static RowForm Create((float[] Tau, double A)[] tasks, float[] sum, int m, int n, int threads)
        {
            var p = new float[tasks.Length][];
            for (int i = 0; i < tasks.Length; i++)
            {
                var tau = tasks[i].Tau;
                var pi = p[i] = new float[(long)m * m];
                ParallelChunks.For(new ChunkPlan(m, BlockRows(n)), block =>
                {
                    int start = (int)block.Start * n, length = (int)block.Length * n, rows = (int)block.Length;
                    var d = Difference(sum, tau, start, length);
                    BlasLevel3.Sgemm(Transpose.No, Transpose.Yes, rows, m, n, 1f, d, n, tau, n, 0f, pi.AsSpan((int)block.Start * m, rows * m), m);
                }, threads);
            }
            return new RowForm(tasks, m, n, p);
        }

        public double InitialLoss => 0;

        public float[] Scratch(int rows) => new float[rows * m];

        /// <summary>scratch = (tau_m - tau_i) tau_i^T on the block's rows, as P_i + delta tau_i^T.</summary>
        private void Inner(int i, int r0, int rows, ReadOnlySpan<float> x, float[] scratch)
        {
            p[i].AsSpan(r0 * m, rows * m).CopyTo(scratch);
            BlasLevel3.Sgemm(Transpose.No, Transpose.Yes, rows, m, n, 1f, x, n, tasks[i].Tau, n, 1f, scratch, m);
        }

        public void Gradient(int r0, int rows, ReadOnlySpan<float> x, Span<float> g, float[] scratch)
        {
            for (int i = 0; i < tasks.Length; i++)
            {
                Inner(i, r0, rows, x, scratch);
                BlasLevel3.Sgemm(Transpose.No, Transpose.No, rows, n, m, (float)(2 * tasks[i].A), scratch, m, tasks[i].Tau, n, i == 0 ? 0f : 1f, g, n);
            }
        }

        public double Loss(int r0, int rows, ReadOnlySpan<float> x, Span<float> g, float[] scratch)
        {
            double s = 0;
            for (int i = 0; i < tasks.Length; i++)
            {
                Inner(i, r0, rows, x, scratch);
                s += tasks[i].A * Norm2(scratch);
            }
            return s;
        }
    }

    /// <summary>The rows of D_i = s - tau_i that start at element <paramref name="start"/>.</summary>
    private static float[] Difference(float[] sum, float[] tau, int start, int length)
    {
        var d = new float[length];
        for (int j = 0; j < length; j++) d[j] = sum[start + j] - tau[start + j];
        return d;
    }

    private static float[] Rounded(double[] x)
    {
        var r = new float[x.Length];
        for (long j = 0; j < x.Length; j++) r[j] = (float)x[j];
        return r;
    }

    private static double Norm2(float[] x)
    {
        double s = 0;
        foreach (float v in x) s += (double)v * v;
        return s;
    }
}
