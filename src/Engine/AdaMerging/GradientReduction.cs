using System.Runtime.Intrinsics;
using Amalgam.Kernels;

namespace Amalgam.Engine.AdaMerging;

/// <summary>
/// The gradient side of a step. theta(lambda) is the same for every task's forward, so the loss's
/// gradient in theta is summed over the step's runs first (<see cref="Accumulate"/>: one
/// read-add-write per run), then reduced once against the task vectors (<see cref="Reduce"/>):
/// dL/dc[l][k] = &lt;G_l, tau_k,l&gt; (chain rule through theta_l = theta0_l + sum_k c_k tau_k,l),
/// each dot product in float64. Slices run in parallel; per-slice partials are folded in slice order,
/// so the result does not depend on the thread count.
/// </summary>
internal static unsafe class GradientReduction
{
    /// <summary>sum = grad (<paramref name="first"/>) or sum + grad, over every slice.</summary>
    public static void Accumulate(TaskVectors tv, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> sums, bool first)
    {
        var slices = tv.Slices;
        ParallelChunks.For(new ChunkPlan(slices.Length, 1), chunk =>
        {
            var s = slices[chunk.Index];
            float* g = (float*)grads[s.Tensor].Pointer + s.Start;
            float* sum = (float*)sums[s.Tensor].Pointer + s.Start;
            if (first) Buffer.MemoryCopy(g, sum, (long)s.Length * 4, (long)s.Length * 4);
            else AddInPlace(sum, g, s.Length);
        }, Workers(tv));
    }

    private static void AddInPlace(float* sum, float* g, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16) (Vector512.Load(sum + i) + Vector512.Load(g + i)).Store(sum + i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8) (Vector256.Load(sum + i) + Vector256.Load(g + i)).Store(sum + i);
        for (; i < n; i++) sum[i] += g[i];
    }

    /// <summary>Returns dL/dc as [tensor * K + task] (before the clamp's mask): &lt;sum_l, tau_k,l&gt; per tensor and task.</summary>
    public static double[] Reduce(TaskVectors tv, IReadOnlyList<Tensor> sums)
    {
        int k = tv.K;
        var slices = tv.Slices;
        var partials = new double[slices.Length * k];
        ParallelChunks.For(new ChunkPlan(slices.Length, 1), chunk =>
        {
            var s = slices[chunk.Index];
            long stride = tv.Theta0[s.Tensor].ElementCount;
            float* g = (float*)sums[s.Tensor].Pointer + s.Start;
            float* taus = (float*)tv.Taus[s.Tensor].Pointer + s.Start;
            Dots(g, taus, stride, k, s.Length, partials.AsSpan(chunk.Index * k, k));
        }, Workers(tv));
        var result = new double[tv.Names.Count * k];
        for (int i = 0; i < slices.Length; i++)
            for (int t = 0; t < k; t++) result[slices[i].Tensor * k + t] += partials[i * k + t];
        return result;
    }

    /// <summary>Small models (under 1M shared elements) run on the calling thread: waking workers costs more than the work (same result either way).</summary>
    internal static int Workers(TaskVectors tv) => tv.Elements < (1 << 20) ? 1 : 0;

    /// <summary>
    /// dots[t] = sum_i g[i] * tau_t[i] in float64 for all K tasks in ONE pass over g (each g vector is
    /// loaded and widened once; 2K independent accumulators). Per task the same operations in the same
    /// order on every call, lanes folded in a fixed order, so the result depends only on the slice.
    /// </summary>
    public static void Dots(float* g, float* taus, long stride, int k, int n, Span<double> dots)
    {
        int i = 0;
        dots.Clear();
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Span<Vector256<double>> acc = stackalloc Vector256<double>[2 * k];
            acc.Clear();
            for (; i <= n - 8; i += 8)
            {
                var (glo, ghi) = Vector256.Widen(Vector256.Load(g + i));
                for (int t = 0; t < k; t++)
                {
                    var (tlo, thi) = Vector256.Widen(Vector256.Load(taus + t * stride + i));
                    acc[2 * t] += glo * tlo;
                    acc[2 * t + 1] += ghi * thi;
                }
            }
            for (int t = 0; t < k; t++)
            {
                var both = acc[2 * t] + acc[2 * t + 1];
                dots[t] = (both.GetElement(0) + both.GetElement(1)) + (both.GetElement(2) + both.GetElement(3));
            }
        }
        for (; i < n; i++)
            for (int t = 0; t < k; t++) dots[t] += (double)g[i] * taus[t * stride + i];
    }
}
