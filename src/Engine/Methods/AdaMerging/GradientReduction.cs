using Amalgam.Kernels.AdaMerging;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// The gradient side of a step. theta(lambda) is the same for every task's forward, so the loss's
/// gradient in theta is summed over the step's runs first (<see cref="Accumulate"/>: one
/// read-add-write per run), then reduced once against the task vectors (<see cref="Reduce"/>):
/// dL/dc[l][k] = &lt;G_l, tau_k,l&gt; (chain rule through theta_l = theta0_l + sum_k c_k tau_k,l),
/// each dot product in float64 (kernels: <see cref="GradientSums"/>). Slices run in parallel; per-slice
/// partials are folded in slice order, so the result does not depend on the thread count.
/// </summary>
internal static unsafe class GradientReduction
{
    /// <summary>sum = grad (<paramref name="first"/>) or sum + grad, over every slice, on up to <paramref name="threads"/> workers (elementwise: the same bits at any count).</summary>
    public static void Accumulate(TaskVectorStore tv, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> sums, bool first, int threads)
    {
        var slices = tv.Slices;
        ParallelChunks.For(new ChunkPlan(slices.Length, 1), chunk =>
        {
            var s = slices[chunk.Index];
            float* g = (float*)grads[s.Tensor].Pointer + s.Start;
            float* sum = (float*)sums[s.Tensor].Pointer + s.Start;
            if (first) Buffer.MemoryCopy(g, sum, (long)s.Length * 4, (long)s.Length * 4);
            else GradientSums.AddInPlace(sum, g, s.Length);
        }, threads);
    }

    /// <summary>Returns dL/dc as [tensor * K + task] (before the clamp's mask): &lt;sum_l, tau_k,l&gt; per tensor and task.</summary>
    public static double[] Reduce(TaskVectorStore tv, IReadOnlyList<Tensor> sums)
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
            GradientSums.Dots(g, taus, stride, k, s.Length, partials.AsSpan(chunk.Index * k, k));
        }, Workers(tv));
        var result = new double[tv.Names.Count * k];
        for (int i = 0; i < slices.Length; i++)
            for (int t = 0; t < k; t++) result[slices[i].Tensor * k + t] += partials[i * k + t];
        return result;
    }

    /// <summary>Small models (under 1M shared elements) run on the calling thread: waking workers costs more than the work (same result either way).</summary>
    internal static int Workers(TaskVectorStore tv) => tv.Elements < (1 << 20) ? 1 : 0;
}
