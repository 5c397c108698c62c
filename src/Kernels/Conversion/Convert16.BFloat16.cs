using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels;

// bfloat16 is the upper half of an IEEE binary32: same sign and 8-bit exponent, 7 mantissa bits.
public static partial class Convert16
{
    /// <summary>bf16 -> f32, exact: each pattern moves to the top 16 bits (NaN payloads kept as they are).</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckSpans(source, destination);
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + (nuint)Vector512<ushort>.Count <= n; i += (nuint)Vector512<ushort>.Count)
            {
                (Vector512<uint> lo, Vector512<uint> hi) = Vector512.Widen(Vector512.LoadUnsafe(ref src, i));
                (lo << 16).StoreUnsafe(ref dst, i);
                (hi << 16).StoreUnsafe(ref dst, i + (nuint)Vector512<uint>.Count);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + (nuint)Vector256<ushort>.Count <= n; i += (nuint)Vector256<ushort>.Count)
            {
                (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref src, i));
                (lo << 16).StoreUnsafe(ref dst, i);
                (hi << 16).StoreUnsafe(ref dst, i + (nuint)Vector256<uint>.Count);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + (nuint)Vector128<ushort>.Count <= n; i += (nuint)Vector128<ushort>.Count)
            {
                (Vector128<uint> lo, Vector128<uint> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref src, i));
                (lo << 16).StoreUnsafe(ref dst, i);
                (hi << 16).StoreUnsafe(ref dst, i + (nuint)Vector128<uint>.Count);
            }
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = (uint)Unsafe.Add(ref src, i) << 16;
    }

    /// <summary>
    /// f32 -> bf16, round to nearest, ties to even; overflow rounds to ±Inf, Inf stays Inf, a NaN
    /// becomes a quiet NaN with the same sign and the top 7 payload bits.
    /// </summary>
    public static void SingleToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckSpans(source, destination);
        ref uint src = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref ushort dst = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + (nuint)Vector512<ushort>.Count <= n; i += (nuint)Vector512<ushort>.Count)
            {
                Vector512<uint> lo = ToBFloat16Bits(Vector512.LoadUnsafe(ref src, i));
                Vector512<uint> hi = ToBFloat16Bits(Vector512.LoadUnsafe(ref src, i + (nuint)Vector512<uint>.Count));
                Vector512.Narrow(lo, hi).StoreUnsafe(ref dst, i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + (nuint)Vector256<ushort>.Count <= n; i += (nuint)Vector256<ushort>.Count)
            {
                Vector256<uint> lo = ToBFloat16Bits(Vector256.LoadUnsafe(ref src, i));
                Vector256<uint> hi = ToBFloat16Bits(Vector256.LoadUnsafe(ref src, i + (nuint)Vector256<uint>.Count));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref dst, i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + (nuint)Vector128<ushort>.Count <= n; i += (nuint)Vector128<ushort>.Count)
            {
                Vector128<uint> lo = ToBFloat16Bits(Vector128.LoadUnsafe(ref src, i));
                Vector128<uint> hi = ToBFloat16Bits(Vector128.LoadUnsafe(ref src, i + (nuint)Vector128<uint>.Count));
                Vector128.Narrow(lo, hi).StoreUnsafe(ref dst, i);
            }
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = (ushort)ToBFloat16Bits(Unsafe.Add(ref src, i));
    }

    // Round to nearest even on the 16 bits dropped: add 0x7FFF plus the lowest kept bit, then
    // truncate. A carry out of the mantissa bumps the exponent, which is the right rounding,
    // including the largest finite values rounding up to Inf (0x7F80). Inf itself has no dropped
    // bits so it is unchanged. NaN is excluded (its carry could turn it into Inf or flip the sign)
    // and instead truncated with the quiet bit (0x0040) set, so a payload only in the low bits stays NaN.
    private const uint AbsMask = 0x7FFF_FFFF, F32Inf = 0x7F80_0000, Bf16Quiet = 0x0040;

    private static uint ToBFloat16Bits(uint b) =>
        (b & AbsMask) > F32Inf ? (b >> 16) | Bf16Quiet : (b + 0x7FFFu + ((b >> 16) & 1)) >> 16;

    private static Vector512<uint> ToBFloat16Bits(Vector512<uint> b)
    {
        Vector512<uint> rounded = (b + Vector512.Create(0x7FFFu) + ((b >> 16) & Vector512<uint>.One)) >> 16;
        Vector512<uint> isNaN = Vector512.GreaterThan(b & Vector512.Create(AbsMask), Vector512.Create(F32Inf));
        return Vector512.ConditionalSelect(isNaN, (b >> 16) | Vector512.Create(Bf16Quiet), rounded);
    }

    private static Vector256<uint> ToBFloat16Bits(Vector256<uint> b)
    {
        Vector256<uint> rounded = (b + Vector256.Create(0x7FFFu) + ((b >> 16) & Vector256<uint>.One)) >> 16;
        Vector256<uint> isNaN = Vector256.GreaterThan(b & Vector256.Create(AbsMask), Vector256.Create(F32Inf));
        return Vector256.ConditionalSelect(isNaN, (b >> 16) | Vector256.Create(Bf16Quiet), rounded);
    }

    private static Vector128<uint> ToBFloat16Bits(Vector128<uint> b)
    {
        Vector128<uint> rounded = (b + Vector128.Create(0x7FFFu) + ((b >> 16) & Vector128<uint>.One)) >> 16;
        Vector128<uint> isNaN = Vector128.GreaterThan(b & Vector128.Create(AbsMask), Vector128.Create(F32Inf));
        return Vector128.ConditionalSelect(isNaN, (b >> 16) | Vector128.Create(Bf16Quiet), rounded);
    }
}
