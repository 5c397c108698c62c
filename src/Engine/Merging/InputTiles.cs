using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

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

    public delegate void Bf16TileBody(long start, int n, ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas);

    /// <summary>
    /// Per tile of the chunk when every task is stored as bf16 (<see cref="TensorGroup.AllTasksBf16"/>):
    /// theta0's tile in f32 (a view or converted into pooled scratch) and the addresses of the K bf16
    /// task tiles in the tensors' own native memory, for kernels that widen bf16 in registers
    /// (<see cref="Bf16Merge"/>) instead of converting every task into scratch first.
    /// </summary>
    public static unsafe void ForEachBf16Tile(TensorGroup g, Chunk chunk, Bf16TileBody body)
    {
        const int tile = TensorGroup.TileElements;
        int k = g.K;
        float[] scratch = ArrayPool<float>.Shared.Rent(tile);
        Span<nint> pointers = stackalloc nint[k];
        try
        {
            for (long start = chunk.Start; start < chunk.End; start += tile)
            {
                int n = (int)Math.Min(tile, chunk.End - start);
                var theta0 = g.Theta0Tile(start, n, scratch);
                for (int t = 0; t < k; t++)
                    pointers[t] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(g.Thetas[t].Read<ushort>(start, n)));
                body(start, n, theta0, pointers);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }
}
