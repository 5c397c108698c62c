using System.Buffers;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// The one home of task vectors tau_k = theta_k - theta0 (each subtraction through
/// <see cref="Kernels.Merge.TaskArithmetic.SubtractInto"/>, IEEE f32). <see cref="ForEachTile"/>: task vectors of one chunk of one tensor, for all K tasks, streamed tile by tile
/// (<see cref="TensorGroup.TileElements"/> elements): the tile's theta0 in f32 and, stacked in one
/// pooled buffer (tile k = elements [k*n, (k+1)*n)), tau_k = theta_k - theta0 with inputs converted
/// from their stored dtype on the fly, then DARE's drop when the method has one. Every value is
/// element-wise (the DARE mask is keyed by element index), so results depend neither on the tiles
/// nor on the chunks, which come from <see cref="ChunkPlan.For{T}"/> of the tensor's length.
/// </summary>
public static class TaskVectors
{
    /// <summary>Called per tile: <paramref name="taus"/> holds K tiles of <paramref name="n"/> floats back to back (writable, e.g. to trim in place).</summary>
    public delegate void TileBody(long start, int n, ReadOnlySpan<float> theta0, Span<float> taus);

    /// <summary>
    /// tau_k of elements [chunk.Start, chunk.End) for every task, tile by tile, DARE-dropped when
    /// <paramref name="drop"/> is set, then trimmed at <paramref name="trimThresholds"/>[k] (TIES:
    /// |tau| &gt;= t kept, else +0) when given; without a drop, subtraction and trim are one fused pass.
    /// When <paramref name="keptCounts"/> is given, entry k is increased by the entries of tau_k that
    /// are not +-0 (TIES' kept fractions), counted as each tile is formed.
    /// </summary>
    public static void ForEachTile(TensorGroup g, Chunk chunk, DareDrop? drop, float[]? dropScales, TileBody body, float[]? trimThresholds = null,
        long[]? keptCounts = null)
    {
        const int tile = TensorGroup.TileElements;
        int k = g.K;
        float[] buffer = ArrayPool<float>.Shared.Rent((k + 1) * tile);
        try
        {
            for (long start = chunk.Start; start < chunk.End; start += tile)
            {
                int n = (int)Math.Min(tile, chunk.End - start);
                var theta0 = g.Theta0Tile(start, n, buffer.AsSpan(k * tile, n));
                var taus = buffer.AsSpan(0, k * n);
                for (int t = 0; t < k; t++)
                {
                    var tau = taus.Slice(t * n, n);
                    if (drop is null && trimThresholds is not null)
                    {
                        long kept = g.TrimmedTaskVectorTile(t, start, theta0, trimThresholds[t], tau, keptCounts is not null);
                        if (keptCounts is not null) keptCounts[t] += kept;
                        continue;
                    }
                    g.TaskVectorTile(t, start, theta0, tau);
                    drop?.Apply(g.Name, t, start, dropScales![t], tau);
                    if (trimThresholds is not null) Ties.TrimInPlace(tau, trimThresholds[t]);
                    if (keptCounts is not null) keptCounts[t] += NonZero.Count(tau); // while the tile is hot
                }
                body(start, n, theta0, taus);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>tau_k = theta_k - theta0 of one shared parameter for every task k, in f32 (stored layout); theta0 is read once.</summary>
    public static float[][] OfTensor(MergeProblem problem, string name)
    {
        var b = Float32Loader.ArrayOf(problem.Base, name);
        var taus = new float[problem.K][];
        for (int k = 0; k < problem.K; k++)
        {
            var t = Float32Loader.ArrayOf(problem.Tasks[k], name);
            TaskArithmetic.SubtractInto(t, b, t);
            taus[k] = t;
        }
        return taus;
    }

    /// <summary>tau_k of a whole (loaded) tensor group for every task k, in f32 (stored layout).</summary>
    public static float[][] OfGroup(TensorGroup g)
    {
        int n = checked((int)g.Length);
        var theta0 = TensorGroup.Float32Tile(g.Theta0, 0, n, new float[n]).ToArray();
        var t = new float[g.K][];
        for (int k = 0; k < g.K; k++)
        {
            t[k] = new float[n];
            g.TaskVectorTile(k, 0, theta0, t[k]);
        }
        return t;
    }
}
