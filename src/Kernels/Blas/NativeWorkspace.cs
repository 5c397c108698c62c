using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Blas;

/// <summary>
/// One aligned native allocation per LAPACK call, carved into float/int arrays. Keeps big
/// workspaces (sgelsd can need hundreds of MB) off the managed heap and frees them promptly.
/// </summary>
internal unsafe struct NativeWorkspace : IDisposable
{
    private const int Alignment = 64;
    private byte* _base;
    private long _used;
    private readonly long _size;

    /// <summary>Allocates room for the listed float and int arrays, each 64-byte aligned.</summary>
    public NativeWorkspace(ReadOnlySpan<long> floatCounts, ReadOnlySpan<long> intCounts)
    {
        long size = 0;
        foreach (long c in floatCounts) size += Round(c * sizeof(float));
        foreach (long c in intCounts) size += Round(c * sizeof(int));
        _size = Math.Max(size, Alignment);
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)_size, Alignment);
        if (_base == null) throw new OutOfMemoryException($"could not allocate {_size} bytes of LAPACK workspace");
    }

    public float* Floats(long count) => (float*)Take(count * sizeof(float));

    public int* Ints(long count) => (int*)Take(count * sizeof(int));

    private byte* Take(long bytes)
    {
        long r = Round(bytes);
        if (_used + r > _size) throw new InvalidOperationException("workspace carved beyond its size");
        byte* p = _base + _used;
        _used += r;
        return p;
    }

    private static long Round(long bytes) => (Math.Max(bytes, 1) + Alignment - 1) / Alignment * Alignment;

    public void Dispose()
    {
        if (_base != null) NativeMemory.AlignedFree(_base);
        _base = null;
    }

    /// <summary>
    /// Workspace size from a LAPACK query (returned as a float in WORK(1)). Rounded up past the
    /// float's precision so a large size is never under-reported.
    /// </summary>
    public static int QueriedSize(float reported, int minimum)
    {
        double up = Math.Ceiling((double)MathF.BitIncrement(reported));
        return (int)Math.Clamp(Math.Max(up, minimum), 1, int.MaxValue);
    }
}
