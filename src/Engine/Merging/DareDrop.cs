using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Rng;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>How DARE rescales the surviving entries of a task vector.</summary>
public enum DareRescale { Inverse, L1, None }

/// <summary>
/// DARE's drop (Yu et al. 2024, "Language Models are Super Mario"), shared by dare_linear and
/// dare_ties: tau_k &lt;- tau_k * mask_k * scale, mask_k ~ Bernoulli(1 - p) per entry.
/// <para>Mask: element i of tensor `name` for task k (0-based) is kept iff
/// (bits_i &gt;&gt; 8) &gt;= ceil((float)p * 2^24), bits_i = word i of the Philox4x32-10 stream
/// <see cref="PhiloxKey.ForTensor"/>(seed, k, name) (seed = --seed). It depends only on
/// (seed, task index, tensor name, element index): not on threads, tiling or order.</para>
/// <para>Scale: rescale=inverse (default): 1/(1-p) (computed in double, rounded to f32);
/// rescale=l1 (mergekit): per tensor and task |tau_k|_1 / |mask_k * tau_k|_1 (both sums in
/// double, accumulated per chunk and summed in chunk order), and 1 when either norm is below
/// 1e-7; rescale=none: 1. Dropped entries become +0.</para>
/// </summary>
public sealed class DareDrop(double p, DareRescale rescale, ulong seed)
{
    public static IReadOnlyList<ParameterSpec> Parameters { get; } =
    [
        ParameterSpec.Float("p", 0.5, "DARE drop probability per task-vector entry", min: 0, max: 1, maxExclusive: true),
        ParameterSpec.Choice("rescale", "inverse", "survivor scale: 1/(1-p), l1 (keep each tensor's L1 norm, mergekit), none", "inverse", "l1", "none"),
    ];

    public static DareDrop From(MergeSettings s) => new(s.Float("p"), s.Choice("rescale") switch
    {
        "l1" => DareRescale.L1,
        "none" => DareRescale.None,
        _ => DareRescale.Inverse,
    }, s.Seed);

    public double P { get; } = p;
    public DareRescale Rescale { get; } = rescale;
    public ulong Seed { get; } = seed;
    private float DropRate => (float)P;

    /// <summary>Per-task survivor scales for one tensor (reads the tensor once per task for rescale=l1).</summary>
    public float[] Scales(TensorGroup g)
    {
        var scales = new float[g.K];
        for (int k = 0; k < g.K; k++)
            scales[k] = Rescale switch
            {
                DareRescale.None => 1f,
                DareRescale.Inverse => (float)(1.0 / (1.0 - P)),
                _ => L1Scale(g, k),
            };
        return scales;
    }

    private float L1Scale(TensorGroup g, int k)
    {
        var key = PhiloxKey.ForTensor(Seed, k, g.Name);
        var plan = ChunkPlan.For<float>(g.Length);
        var (total, kept) = ParallelChunks.Reduce(plan, chunk =>
        {
            int n = (int)chunk.Length;
            // Whole chunks (not tiles): the double sums run per chunk, in chunk order.
            float[] scratch = System.Buffers.ArrayPool<float>.Shared.Rent(2 * n);
            try
            {
                var tau = scratch.AsSpan(0, n);
                g.TaskVectorTile(k, chunk.Start, g.Theta0Tile(chunk.Start, n, scratch.AsSpan(n, n)), tau);
                return Dare.L1Norms(key, chunk.Start, DropRate, tau);
            }
            finally
            {
                System.Buffers.ArrayPool<float>.Shared.Return(scratch);
            }
        }, (a, b) => (a.Total + b.Total, a.Kept + b.Kept), (Total: 0.0, Kept: 0.0));
        return total >= 1e-7 && kept >= 1e-7 ? (float)(total / kept) : 1f;
    }

    /// <summary>Drops and rescales elements [start, start + tau.Length) of task <paramref name="task"/>'s vector of tensor <paramref name="name"/>.</summary>
    public void Apply(string name, int task, long start, float scale, Span<float> tau) =>
        Dare.MaskAndScale(PhiloxKey.ForTensor(Seed, task, name), start, DropRate, scale, tau);
}
