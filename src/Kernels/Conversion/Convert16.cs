using System.Runtime.InteropServices;

namespace Amalgam.Kernels;

/// <summary>
/// Conversions between 16-bit floats stored as <see cref="ushort"/> bit patterns (bfloat16 and IEEE
/// binary16) and <see cref="float"/>, over spans, in the style of TensorPrimitives: one vectorised
/// loop per width (Vector512, then Vector256, then Vector128 for what is left) and a scalar tail.
/// Widening is exact; narrowing rounds to nearest, ties to even, and keeps NaN a NaN.
/// Source and destination must not overlap; the destination may be longer than the source.
/// </summary>
public static partial class Convert16
{
    private static void CheckSpans<TFrom, TTo>(ReadOnlySpan<TFrom> source, Span<TTo> destination)
        where TFrom : unmanaged where TTo : unmanaged
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination has {destination.Length} elements, source {source.Length}", nameof(destination));
        // Widening writes ahead of where it reads, so an in-place call would read overwritten data.
        if (MemoryMarshal.AsBytes(source).Overlaps(MemoryMarshal.AsBytes((ReadOnlySpan<TTo>)destination)))
            throw new ArgumentException("source and destination overlap", nameof(destination));
    }
}
