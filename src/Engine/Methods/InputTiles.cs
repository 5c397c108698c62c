using System.Buffers;
using Amalgam.Kernels;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// The raw inputs of one chunk, tile by tile (<see cref="TensorGroup.TileElements"/> elements):
/// theta0's tile and the K task tiles as a pointer <see cref="TileSet"/>, f32 tensors in place and
/// other dtypes converted into one pooled, pinned scratch buffer per chunk. For fused kernels that
/// read theta_k directly (task_arithmetic, average, consensus).
/// </summary>
internal static class InputTiles
{
    public delegate void TileBody(long start, int n, ReadOnlySpan<float> theta0, TileSet thetas);

    /// <summary>Runs the body per tile of the chunk; theta0 is left empty unless <paramref name="withTheta0"/>.</summary>
    public static unsafe void ForEachTile(TensorGroup g, Chunk chunk, TileBody body, bool withTheta0 = true)
    {
        const int tile = TensorGroup.TileElements;
        int k = g.K;
        float[] scratch = ArrayPool<float>.Shared.Rent((k + 1) * tile);
        Span<nint> pointers = stackalloc nint[k];
        try
        {
            fixed (float* pinned = scratch) // ThetaTiles hands out addresses of converted tiles
            {
                var buffer = new Span<float>(pinned, scratch.Length);
                for (long start = chunk.Start; start < chunk.End; start += tile)
                {
                    int n = (int)Math.Min(tile, chunk.End - start);
                    var theta0 = withTheta0 ? g.Theta0Tile(start, n, buffer.Slice(k * tile, n)) : default;
                    var thetas = g.ThetaTiles(start, n, buffer[..(k * n)], pointers);
                    body(start, n, theta0, thetas);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
