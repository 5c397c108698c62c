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
    /// dots[t] = sum_i g[i] * tau_t[i] in float64 for all K tasks: four tasks per pass over g (g stays
    /// in L2; eight accumulators stay in registers), then one at a time. Every dot product is the same
    /// operations in the same order whichever group it falls in: lanes lo/hi of 4 doubles each,
    /// folded as ((l0 + l1) + (l2 + l3)) of lo + hi, then the scalar tail in order.
    /// </summary>
    public static void Dots(float* g, float* taus, long stride, int k, int n, Span<double> dots)
    {
        int t = 0;
        for (; t + 4 <= k; t += 4)
            Dots4(g, taus + t * stride, taus + (t + 1) * stride, taus + (t + 2) * stride, taus + (t + 3) * stride, n, dots.Slice(t, 4));
        for (; t < k; t++) dots[t] = Dot(g, taus + t * stride, n);
    }

    private static void Dots4(float* g, float* p0, float* p1, float* p2, float* p3, int n, Span<double> dots)
    {
        int i = 0;
        double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            for (; i <= n - 8; i += 8)
            {
                var (glo, ghi) = Vector256.Widen(Vector256.Load(g + i));
                var (lo0, hi0) = Vector256.Widen(Vector256.Load(p0 + i));
                a0 += glo * lo0; b0 += ghi * hi0;
                var (lo1, hi1) = Vector256.Widen(Vector256.Load(p1 + i));
                a1 += glo * lo1; b1 += ghi * hi1;
                var (lo2, hi2) = Vector256.Widen(Vector256.Load(p2 + i));
                a2 += glo * lo2; b2 += ghi * hi2;
                var (lo3, hi3) = Vector256.Widen(Vector256.Load(p3 + i));
                a3 += glo * lo3; b3 += ghi * hi3;
            }
            d0 = Fold(a0 + b0); d1 = Fold(a1 + b1); d2 = Fold(a2 + b2); d3 = Fold(a3 + b3);
        }
        for (; i < n; i++)
        {
            double gi = g[i];
            d0 += gi * p0[i]; d1 += gi * p1[i]; d2 += gi * p2[i]; d3 += gi * p3[i];
        }
        dots[0] = d0; dots[1] = d1; dots[2] = d2; dots[3] = d3;
    }

    /// <summary>One dot product with the same operations and order as each task of <see cref="Dots4"/>.</summary>
    public static double Dot(float* g, float* p, int n)
    {
        int i = 0;
        double d = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> a = default, b = default;
            for (; i <= n - 8; i += 8)
            {
                var (glo, ghi) = Vector256.Widen(Vector256.Load(g + i));
                var (lo, hi) = Vector256.Widen(Vector256.Load(p + i));
                a += glo * lo; b += ghi * hi;
            }
            d = Fold(a + b);
        }
        for (; i < n; i++) d += (double)g[i] * p[i];
        return d;
    }

    private static double Fold(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));
}
