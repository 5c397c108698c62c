using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// K equally long f32 tiles, one per task, handed to a merge kernel. Either stacked in one buffer
/// (what a converter fills: tile k starts at k*stride), or K pointers to memory that stays pinned
/// for the call (native tensors, memory-mapped f32 data). No allocation; slicing is free.
/// </summary>
public readonly unsafe ref struct TileSet
{
    private readonly ReadOnlySpan<float> _stacked;
    private readonly ReadOnlySpan<nint> _pointers;
    private readonly bool _usesPointers;
    private readonly int _stride, _offset;

    /// <summary>Tiles stored back to back: <paramref name="count"/> tiles of <paramref name="length"/> floats.</summary>
    public TileSet(ReadOnlySpan<float> stacked, int count, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if ((long)count * length != stacked.Length)
            throw new ArgumentException($"Stacked buffer holds {stacked.Length} floats, expected {count} x {length}.", nameof(stacked));
        _stacked = stacked;
        _stride = length;
        Count = count;
        Length = length;
    }

    /// <summary>Tiles at the given addresses (each <paramref name="length"/> floats, pinned by the caller).</summary>
    public TileSet(ReadOnlySpan<nint> pointers, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        foreach (nint p in pointers)
            if (p == 0) throw new ArgumentException("Null tile pointer.", nameof(pointers));
        _pointers = pointers;
        _usesPointers = true;
        Count = pointers.Length;
        Length = length;
    }

    private TileSet(TileSet parent, int start, int length)
    {
        this = parent;
        _offset = parent._offset + start;
        Length = length;
    }

    /// <summary>Number of tiles (tasks).</summary>
    public int Count { get; }

    /// <summary>Floats per tile.</summary>
    public int Length { get; }

    /// <summary>Tile k.</summary>
    public ReadOnlySpan<float> this[int k]
    {
        get
        {
            if ((uint)k >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(k));
            return _usesPointers
                ? new ReadOnlySpan<float>((float*)_pointers[k] + _offset, Length)
                : _stacked.Slice(k * _stride + _offset, Length);
        }
    }

    /// <summary>
    /// Writes the address of each tile's first element to <paramref name="dest"/>. Stacked sets
    /// must be pinned by the caller: pass the address of the stacked buffer's first element.
    /// </summary>
    internal void GetPointers(float* stackedBase, Span<nint> dest)
    {
        for (int k = 0; k < Count; k++)
            dest[k] = _usesPointers ? (nint)((float*)_pointers[k] + _offset) : (nint)(stackedBase + (long)k * _stride + _offset);
    }

    /// <summary>The stacked buffer (empty for pointer sets), for pinning.</summary>
    internal ReadOnlySpan<float> StackedBuffer => _stacked;

    /// <summary>Elements [start, start + length) of every tile.</summary>
    public TileSet Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)start, (uint)Length, nameof(start));
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)length, (uint)(Length - start), nameof(length));
        return new TileSet(this, start, length);
    }

    /// <summary>Address of a span over native (unmoving) memory: tensors and memory-mapped views.</summary>
    public static unsafe nint Address(ReadOnlySpan<float> nativeSpan) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(nativeSpan));
}
