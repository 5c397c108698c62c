using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels;

// IEEE 754 binary16: sign, 5-bit exponent (bias 15), 10 mantissa bits. The vector paths are plain
// integer bit manipulation plus one float add/subtract for subnormals, after F. Giesen,
// "half_to_float_fast5" / "float_to_half_fast3_rtne" (https://gist.github.com/rygorous/2156668).
public static partial class Convert16
{
    /// <summary>f16 -> f32, exact, subnormals included; a NaN keeps its sign and payload (shifted up 13 bits).</summary>
    public static void HalfToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckSpans(source, destination);
        ref ushort src = ref MemoryMarshal.GetReference(source);
        ref uint dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + (nuint)Vector512<ushort>.Count <= n; i += (nuint)Vector512<ushort>.Count)
            {
                (Vector512<uint> lo, Vector512<uint> hi) = Vector512.Widen(Vector512.LoadUnsafe(ref src, i));
                HalfToSingleBits(lo).StoreUnsafe(ref dst, i);
                HalfToSingleBits(hi).StoreUnsafe(ref dst, i + (nuint)Vector512<uint>.Count);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + (nuint)Vector256<ushort>.Count <= n; i += (nuint)Vector256<ushort>.Count)
            {
                (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref src, i));
                HalfToSingleBits(lo).StoreUnsafe(ref dst, i);
                HalfToSingleBits(hi).StoreUnsafe(ref dst, i + (nuint)Vector256<uint>.Count);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + (nuint)Vector128<ushort>.Count <= n; i += (nuint)Vector128<ushort>.Count)
            {
                (Vector128<uint> lo, Vector128<uint> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref src, i));
                HalfToSingleBits(lo).StoreUnsafe(ref dst, i);
                HalfToSingleBits(hi).StoreUnsafe(ref dst, i + (nuint)Vector128<uint>.Count);
            }
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = HalfToSingleBits(Vector128.CreateScalar((uint)Unsafe.Add(ref src, i))).ToScalar();
    }

    /// <summary>
    /// f32 -> f16, round to nearest, ties to even, subnormal results rounded correctly, |x| at or
    /// above 65520 to ±Inf; a NaN becomes a quiet NaN with the same sign and the top 9 payload bits.
    /// </summary>
    public static void SingleToHalf(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckSpans(source, destination);
        ref uint src = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref ushort dst = ref MemoryMarshal.GetReference(destination);
        nuint n = (nuint)source.Length, i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + (nuint)Vector512<ushort>.Count <= n; i += (nuint)Vector512<ushort>.Count)
            {
                Vector512<uint> lo = SingleToHalfBits(Vector512.LoadUnsafe(ref src, i));
                Vector512<uint> hi = SingleToHalfBits(Vector512.LoadUnsafe(ref src, i + (nuint)Vector512<uint>.Count));
                Vector512.Narrow(lo, hi).StoreUnsafe(ref dst, i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + (nuint)Vector256<ushort>.Count <= n; i += (nuint)Vector256<ushort>.Count)
            {
                Vector256<uint> lo = SingleToHalfBits(Vector256.LoadUnsafe(ref src, i));
                Vector256<uint> hi = SingleToHalfBits(Vector256.LoadUnsafe(ref src, i + (nuint)Vector256<uint>.Count));
                Vector256.Narrow(lo, hi).StoreUnsafe(ref dst, i);
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i + (nuint)Vector128<ushort>.Count <= n; i += (nuint)Vector128<ushort>.Count)
            {
                Vector128<uint> lo = SingleToHalfBits(Vector128.LoadUnsafe(ref src, i));
                Vector128<uint> hi = SingleToHalfBits(Vector128.LoadUnsafe(ref src, i + (nuint)Vector128<uint>.Count));
                Vector128.Narrow(lo, hi).StoreUnsafe(ref dst, i);
            }
        // The tail reuses the Vector128 formula on one lane (software-emulated where Vector128 is not accelerated).
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = (ushort)SingleToHalfBits(Vector128.CreateScalar(Unsafe.Add(ref src, i))).ToScalar();
    }

    // f16 -> f32: move exponent+mantissa to their f32 places (<< 13) and rebias the exponent by
    // 127 - 15 = 112. Inf/NaN (exponent 31) need the exponent pushed on to 255 (another +112).
    // Zero/subnormal (exponent 0): m * 2^-24 is computed exactly as float(2^-14 * (1 + m/1024)) - 2^-14.
    private const uint HalfExpMask = 0x7C00 << 13, Rebias = 112u << 23;
    private const float TwoPowMinus14 = 1.0f / 16384;

    private static Vector512<uint> HalfToSingleBits(Vector512<uint> h)
    {
        Vector512<uint> shifted = (h & Vector512.Create(0x7FFFu)) << 13;
        Vector512<uint> exp = shifted & Vector512.Create(HalfExpMask);
        Vector512<uint> o = shifted + Vector512.Create(Rebias);
        o += Vector512.Equals(exp, Vector512.Create(HalfExpMask)) & Vector512.Create(Rebias);
        Vector512<uint> sub = (Vector512.AsSingle(o + Vector512.Create(1u << 23)) - Vector512.Create(TwoPowMinus14)).AsUInt32();
        o = Vector512.ConditionalSelect(Vector512.Equals(exp, Vector512<uint>.Zero), sub, o);
        return o | ((h & Vector512.Create(0x8000u)) << 16);
    }

    private static Vector256<uint> HalfToSingleBits(Vector256<uint> h)
    {
        Vector256<uint> shifted = (h & Vector256.Create(0x7FFFu)) << 13;
        Vector256<uint> exp = shifted & Vector256.Create(HalfExpMask);
        Vector256<uint> o = shifted + Vector256.Create(Rebias);
        o += Vector256.Equals(exp, Vector256.Create(HalfExpMask)) & Vector256.Create(Rebias);
        Vector256<uint> sub = (Vector256.AsSingle(o + Vector256.Create(1u << 23)) - Vector256.Create(TwoPowMinus14)).AsUInt32();
        o = Vector256.ConditionalSelect(Vector256.Equals(exp, Vector256<uint>.Zero), sub, o);
        return o | ((h & Vector256.Create(0x8000u)) << 16);
    }

    private static Vector128<uint> HalfToSingleBits(Vector128<uint> h)
    {
        Vector128<uint> shifted = (h & Vector128.Create(0x7FFFu)) << 13;
        Vector128<uint> exp = shifted & Vector128.Create(HalfExpMask);
        Vector128<uint> o = shifted + Vector128.Create(Rebias);
        o += Vector128.Equals(exp, Vector128.Create(HalfExpMask)) & Vector128.Create(Rebias);
        Vector128<uint> sub = (Vector128.AsSingle(o + Vector128.Create(1u << 23)) - Vector128.Create(TwoPowMinus14)).AsUInt32();
        o = Vector128.ConditionalSelect(Vector128.Equals(exp, Vector128<uint>.Zero), sub, o);
        return o | ((h & Vector128.Create(0x8000u)) << 16);
    }

    // f32 -> f16 on |x| (sign re-attached at the end), three cases selected by mask:
    //  |x| >= 2^16 (f32 bits >= 143 << 23): Inf, or a quiet NaN keeping the top payload bits.
    //  |x| <  2^-14 (bits < 113 << 23): f16 subnormal or zero. Adding 0.5 puts the value in a binade
    //      whose f32 ulp is 2^-24, the f16 subnormal step, so the FPU's own round-to-nearest-even
    //      rounds it; the count of 2^-24 steps above 0.5 is the f16 pattern (1024 = smallest normal).
    //  otherwise: rebias the exponent (-112), round to nearest even on the 13 dropped bits by adding
    //      0xFFF plus the lowest kept bit, then shift; a carry into the exponent is correct rounding,
    //      up to Inf (0x7C00) for 65520 <= |x| < 65536.
    private const uint SignMask = 0x8000_0000, HalfOverflow = 143u << 23, HalfMinNormal = 113u << 23;
    private const uint HalfInf = 0x7C00, HalfQuietNaN = 0x7E00, OneHalfBits = 126u << 23;

    private static Vector512<uint> SingleToHalfBits(Vector512<uint> f)
    {
        Vector512<uint> sign = f & Vector512.Create(SignMask), a = f ^ sign;
        Vector512<uint> nan = Vector512.Create(HalfQuietNaN) | ((a >> 13) & Vector512.Create(0x3FFu));
        Vector512<uint> special = Vector512.ConditionalSelect(Vector512.GreaterThan(a, Vector512.Create(F32Inf)), nan, Vector512.Create(HalfInf));
        Vector512<uint> sub = (a.AsSingle() + Vector512.Create(0.5f)).AsUInt32() - Vector512.Create(OneHalfBits);
        Vector512<uint> normal = (a - Vector512.Create(Rebias) + Vector512.Create(0xFFFu) + ((a >> 13) & Vector512<uint>.One)) >> 13;
        Vector512<uint> r = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(HalfMinNormal)), sub, normal);
        r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512.Create(HalfOverflow)), special, r);
        return r | (sign >> 16);
    }

    private static Vector256<uint> SingleToHalfBits(Vector256<uint> f)
    {
        Vector256<uint> sign = f & Vector256.Create(SignMask), a = f ^ sign;
        Vector256<uint> nan = Vector256.Create(HalfQuietNaN) | ((a >> 13) & Vector256.Create(0x3FFu));
        Vector256<uint> special = Vector256.ConditionalSelect(Vector256.GreaterThan(a, Vector256.Create(F32Inf)), nan, Vector256.Create(HalfInf));
        Vector256<uint> sub = (a.AsSingle() + Vector256.Create(0.5f)).AsUInt32() - Vector256.Create(OneHalfBits);
        Vector256<uint> normal = (a - Vector256.Create(Rebias) + Vector256.Create(0xFFFu) + ((a >> 13) & Vector256<uint>.One)) >> 13;
        Vector256<uint> r = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(HalfMinNormal)), sub, normal);
        r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256.Create(HalfOverflow)), special, r);
        return r | (sign >> 16);
    }

    private static Vector128<uint> SingleToHalfBits(Vector128<uint> f)
    {
        Vector128<uint> sign = f & Vector128.Create(SignMask), a = f ^ sign;
        Vector128<uint> nan = Vector128.Create(HalfQuietNaN) | ((a >> 13) & Vector128.Create(0x3FFu));
        Vector128<uint> special = Vector128.ConditionalSelect(Vector128.GreaterThan(a, Vector128.Create(F32Inf)), nan, Vector128.Create(HalfInf));
        Vector128<uint> sub = (a.AsSingle() + Vector128.Create(0.5f)).AsUInt32() - Vector128.Create(OneHalfBits);
        Vector128<uint> normal = (a - Vector128.Create(Rebias) + Vector128.Create(0xFFFu) + ((a >> 13) & Vector128<uint>.One)) >> 13;
        Vector128<uint> r = Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(HalfMinNormal)), sub, normal);
        r = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(a, Vector128.Create(HalfOverflow)), special, r);
        return r | (sign >> 16);
    }
}
