using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amalgam.Kernels;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Task vectors of one chunk of one tensor, for all K tasks, in a pooled stacked buffer
/// (tile k = elements [k*len, (k+1)*len)): tau_k = theta_k - theta0, then DARE's drop when the
/// method has one. Chunks come from <see cref="ChunkPlan.For{T}"/> of the tensor's length, so the
/// tiling (and every f32 result) depends only on the tensor size, never on the thread count.
/// </summary>
internal sealed class TaskVectorTiles : IDisposable
{
    private float[] _buffer;
    public int Count { get; }
    public int Length { get; }

    private TaskVectorTiles(int count, int length)
    {
        Count = count;
        Length = length;
        _buffer = ArrayPool<float>.Shared.Rent(Math.Max(1, count * length));
    }

    /// <summary>The stacked buffer (K tiles of <see cref="Length"/>).</summary>
    public Span<float> Stacked => _buffer.AsSpan(0, Count * Length);

    public Span<float> Tile(int k) => _buffer.AsSpan(k * Length, Length);

    public TileSet Tiles => new(_buffer.AsSpan(0, Count * Length), Count, Length);

    /// <summary>tau_k of elements [chunk.Start, chunk.End) for every task, DARE-dropped when <paramref name="drop"/> is set.</summary>
    public static TaskVectorTiles Fill(TensorGroup g, Chunk chunk, DareDrop? drop, float[]? dropScales)
    {
        int len = (int)chunk.Length;
        var tiles = new TaskVectorTiles(g.K, len);
        var theta0 = g.Theta0.Read<float>(chunk.Start, len);
        for (int k = 0; k < g.K; k++)
        {
            var tau = tiles.Tile(k);
            Kernels.Merge.TaskArithmetic.SubtractInto(g.Thetas[k].Read<float>(chunk.Start, len), theta0, tau);
            drop?.Apply(g.Name, k, chunk.Start, dropScales![k], tau);
        }
        return tiles;
    }

    public void Dispose()
    {
        if (_buffer.Length == 0) return;
        ArrayPool<float>.Shared.Return(_buffer);
        _buffer = [];
    }

    /// <summary>Entries that are not +-0 (for kept fractions in reports); vectorised, it runs in every merge pass.</summary>
    public static long CountNonZero(ReadOnlySpan<float> x)
    {
        long zeros = 0;
        int i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
                zeros += BitOperations.PopCount(Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)i), Vector256<float>.Zero).ExtractMostSignificantBits());
        for (; i < x.Length; i++) if (x[i] == 0f) zeros++;
        return x.Length - zeros;
    }

    /// <summary>Address of a span over native (unmoving) memory: tensors and memory-mapped views.</summary>
    public static unsafe nint Address(ReadOnlySpan<float> nativeSpan) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(nativeSpan));
}
