using Amalgam.Kernels;
using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Conversion;

/// <summary>
/// 16-bit float conversions against references written here with double arithmetic: widening over all
/// 65,536 patterns, narrowing over a dense set of f32 patterns (every 16-bit value, the exact halfway
/// points between neighbours and their f32 neighbours, NaNs, Infs, subnormals, signed zeros, random).
/// </summary>
public class ConversionTests
{
    // ---- References (double math, independent of the kernels' bit tricks) ----

    /// <summary>Bits of the f32 equal to a 16-bit float with the given field widths (NaN: payload moved up, as documented).</summary>
    private static uint RefWiden(ushort h, int expBits, int manBits)
    {
        int sign = h >> 15, exp = (h >> manBits) & ((1 << expBits) - 1), man = h & ((1 << manBits) - 1);
        int bias = (1 << (expBits - 1)) - 1;
        if (exp == (1 << expBits) - 1)
            return man == 0 ? (sign == 1 ? 0xFF80_0000u : 0x7F80_0000u) : ((uint)sign << 31) | 0x7F80_0000u | ((uint)man << (23 - manBits));
        double v = exp == 0 ? Math.ScaleB(man, 1 - bias - manBits) : Math.ScaleB((1 << manBits) + man, exp - bias - manBits);
        return BitConverter.SingleToUInt32Bits((float)(sign == 1 ? -v : v));
    }

    /// <summary>Round-to-nearest-even of a non-NaN f32 to a 16-bit float: |x| = r * 2^(e - manBits), r rounded.</summary>
    private static ushort RefNarrow(float x, int expBits, int manBits)
    {
        int bias = (1 << (expBits - 1)) - 1, emin = 1 - bias;
        uint signBit = float.IsNegative(x) ? 0x8000u : 0u, inf = (uint)((1 << expBits) - 1) << manBits;
        double a = Math.Abs((double)x);
        if (double.IsInfinity(a)) return (ushort)(signBit | inf);
        if (a == 0) return (ushort)signBit;
        int e = Math.Max(Math.ILogB(a), emin);                                   // subnormals share emin's step
        double r = Math.Round(Math.ScaleB(a, manBits - e), MidpointRounding.ToEven); // exact scaling, then RNE
        // Normal: biased exponent field + mantissa; r = 2^(manBits+1) carries into the next exponent,
        // and for subnormals (e = emin) the same formula gives just r.
        long bits = ((long)(e + bias) << manBits) + (long)r - (1L << manBits);
        return (ushort)(signBit | (uint)Math.Min(bits, inf));
    }

    internal static uint RefBf16ToF32(ushort h) => RefWiden(h, 8, 7);
    internal static uint RefF16ToF32(ushort h) => RefWiden(h, 5, 10);

    internal static ushort RefF32ToBf16(uint f) => float.IsNaN(BitConverter.UInt32BitsToSingle(f))
        ? (ushort)((f >> 16) | 0x0040)                                            // quiet, sign and top payload kept
        : RefNarrow(BitConverter.UInt32BitsToSingle(f), 8, 7);

    internal static ushort RefF32ToF16(uint f) => float.IsNaN(BitConverter.UInt32BitsToSingle(f))
        ? (ushort)(((f >> 16) & 0x8000) | 0x7E00 | ((f >> 13) & 0x3FF))
        : RefNarrow(BitConverter.UInt32BitsToSingle(f), 5, 10);

    // ---- Dense f32 test sets ----

    private static uint[] DenseSet(int expBits, int manBits, int seed)
    {
        var rng = new Random(seed);
        var set = new List<uint>();
        for (int p = 0; p < 0x8000; p++)
        {
            double Value(int q) => Math.ScaleB(q >= 1 << manBits ? (1 << manBits) + (q & ((1 << manBits) - 1)) : q,
                Math.Max(q >> manBits, 1) - ((1 << (expBits - 1)) - 1) - manBits);
            bool special = p >> manBits == (1 << expBits) - 1;
            uint here = special ? RefWiden((ushort)p, expBits, manBits) : BitConverter.SingleToUInt32Bits((float)Value(p));
            // Exact halfway to the next pattern up (for the largest finite one: to where Inf would be).
            uint mid = special ? here | (uint)rng.Next(1 << 16) : BitConverter.SingleToUInt32Bits((float)((Value(p) + Value(p + 1)) / 2));
            foreach (uint b in new[] { here, here + 1, here - 1, mid, mid + 1, mid - 1, here + (uint)rng.Next(1 << (23 - manBits)) })
            {
                set.Add(b);
                set.Add(b | 0x8000_0000);
            }
        }
        for (uint b = 0; b < 256; b++) { set.Add(b); set.Add(b | 0x8000_0000); }          // f32 subnormals
        foreach (uint b in new uint[] { 0x7F80_0001, 0x7FC0_0000, 0x7FBF_FFFF, 0xFF80_0001, 0x7F7F_FFFF, 0x3300_0000, 0x3300_0001, 0x477F_F000, 0x477F_EFFF })
            set.Add(b);
        for (int i = 0; i < 100_000; i++) set.Add((uint)rng.NextInt64(1L << 32));
        return set.ToArray();
    }

    private static readonly Lazy<uint[]> DenseBf16 = new(() => DenseSet(8, 7, 1));
    private static readonly Lazy<uint[]> DenseF16 = new(() => DenseSet(5, 10, 2));

    // Converting in pieces of 16, 8 or 1 element sends all the data through the Vector256, Vector128
    // or scalar path respectively (the loops cascade from wide to narrow); whole-span uses Vector512.
    private static readonly int[] PieceLengths = [int.MaxValue, 16, 8, 1];

    private static void InPieces<TFrom, TTo>(TFrom[] src, TTo[] dst, int piece, Action<ReadOnlySpan<TFrom>, Span<TTo>> convert)
    {
        for (int i = 0; i < src.Length; i += Math.Min(piece, src.Length - i))
        {
            int n = Math.Min(piece, src.Length - i);
            convert(src.AsSpan(i, n), dst.AsSpan(i, n));
        }
    }

    private static ushort[] AllPatterns() => Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();

    private static void CheckWiden(Action<ReadOnlySpan<ushort>, Span<float>> convert, Func<ushort, uint> reference)
    {
        ushort[] src = AllPatterns();
        foreach (int piece in PieceLengths)
        {
            var dst = new float[src.Length];
            InPieces(src, dst, piece, convert);
            for (int i = 0; i < src.Length; i++)
                if (BitConverter.SingleToUInt32Bits(dst[i]) != reference(src[i]))
                    Assert.Fail($"piece {piece}: 0x{src[i]:X4} -> 0x{BitConverter.SingleToUInt32Bits(dst[i]):X8}, expected 0x{reference(src[i]):X8}");
        }
    }

    private static void CheckNarrow(uint[] bits, Action<ReadOnlySpan<float>, Span<ushort>> convert, Func<uint, ushort> reference)
    {
        float[] src = bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
        foreach (int piece in PieceLengths)
        {
            var dst = new ushort[src.Length];
            InPieces(src, dst, piece, convert);
            for (int i = 0; i < src.Length; i++)
                if (dst[i] != reference(bits[i]))
                    Assert.Fail($"piece {piece}: 0x{bits[i]:X8} -> 0x{dst[i]:X4}, expected 0x{reference(bits[i]):X4}");
        }
    }

    [Test]
    public void BFloat16ToSingleAllPatternsExact() => CheckWiden(Convert16.BFloat16ToSingle, RefBf16ToF32);

    [Test]
    public void HalfToSingleAllPatternsExact() => CheckWiden(Convert16.HalfToSingle, RefF16ToF32);

    [Test]
    public void SingleToBFloat16DenseSetRoundsToNearestEven() => CheckNarrow(DenseBf16.Value, Convert16.SingleToBFloat16, RefF32ToBf16);

    [Test]
    public void SingleToHalfDenseSetRoundsToNearestEven() => CheckNarrow(DenseF16.Value, Convert16.SingleToHalf, RefF32ToF16);

    [Test]
    public void ReferencesAgreeWithSystemHalf()
    {
        // Cross-check the f16 references themselves against .NET's scalar Half conversion.
        for (int p = 0; p < 65536; p++)
        {
            Half h = BitConverter.UInt16BitsToHalf((ushort)p);
            if (!Half.IsNaN(h))
                Assert.That(RefF16ToF32((ushort)p), Is.EqualTo(BitConverter.SingleToUInt32Bits((float)h)), $"0x{p:X4}");
        }
        foreach (uint b in DenseF16.Value)
        {
            float x = BitConverter.UInt32BitsToSingle(b);
            if (!float.IsNaN(x))
                Assert.That(RefF32ToF16(b), Is.EqualTo(BitConverter.HalfToUInt16Bits((Half)x)), $"0x{b:X8}");
        }
    }

    [Test]
    public void HandPickedValues()
    {
        (float x, ushort bf16, ushort f16)[] cases =
        [
            (1.0f, 0x3F80, 0x3C00), (-2.0f, 0xC000, 0xC000), (0.0f, 0x0000, 0x0000), (-0.0f, 0x8000, 0x8000),
            (65504f, 0x4780, 0x7BFF), (65520f, 0x4780, 0x7C00),                         // f16 max; first value rounding to Inf
            (1.0f + 1.0f / 2048, 0x3F80, 0x3C00), (1.0f + 3.0f / 2048, 0x3F80, 0x3C02), // f16 ties to even
            (BitConverter.UInt32BitsToSingle(0x3F80_8000), 0x3F80, 0x3C04),              // bf16 tie, even below
            (BitConverter.UInt32BitsToSingle(0x3F81_8000), 0x3F82, 0x3C0C),              // bf16 tie, even above
            (MathF.ScaleB(1, -24), 0x3380, 0x0001), (MathF.ScaleB(1, -25), 0x3300, 0x0000), // f16 min subnormal; tie to 0
            (float.PositiveInfinity, 0x7F80, 0x7C00), (float.NegativeInfinity, 0xFF80, 0xFC00),
            (float.MaxValue, 0x7F80, 0x7C00),
        ];
        var src = cases.Select(c => c.x).ToArray();
        var bf = new ushort[src.Length];
        var f16 = new ushort[src.Length];
        Convert16.SingleToBFloat16(src, bf);
        Convert16.SingleToHalf(src, f16);
        Assert.That(bf, Is.EqualTo(cases.Select(c => c.bf16).ToArray()));
        Assert.That(f16, Is.EqualTo(cases.Select(c => c.f16).ToArray()));
    }

    [Test]
    public void NaNsStayNaNWithSign()
    {
        float[] src = [BitConverter.UInt32BitsToSingle(0x7F80_0001), BitConverter.UInt32BitsToSingle(0xFF80_0001), float.NaN];
        var bf = new ushort[3];
        var f16 = new ushort[3];
        Convert16.SingleToBFloat16(src, bf);
        Convert16.SingleToHalf(src, f16);
        var back = new float[3];
        Convert16.BFloat16ToSingle(bf, back);
        Assert.That(back.Select(float.IsNaN), Is.All.True);
        Assert.That(back.Select(float.IsNegative), Is.EqualTo(src.Select(float.IsNegative)));
        Convert16.HalfToSingle(f16, back);
        Assert.That(back.Select(float.IsNaN), Is.All.True);
        Assert.That(back.Select(float.IsNegative), Is.EqualTo(src.Select(float.IsNegative)));
    }

    [Test]
    public void EveryLengthAndOffsetMatchesReference()
    {
        var rng = new Random(3);
        uint[] pool = DenseF16.Value.Concat(DenseBf16.Value).ToArray();
        for (int len = 0; len <= 70; len++)
            for (int offset = 0; offset < 3; offset++)
            {
                uint[] bits = Enumerable.Range(0, len + offset).Select(_ => pool[rng.Next(pool.Length)]).ToArray();
                float[] f = bits.Select(BitConverter.UInt32BitsToSingle).ToArray();
                ushort[] h = bits.Select(b => (ushort)b).ToArray();
                var narrow = new ushort[len + 5];
                var wide = new float[len + 5];
                Convert16.SingleToBFloat16(f.AsSpan(offset), narrow.AsSpan(1));
                Assert.That(narrow.AsSpan(1, len).ToArray(), Is.EqualTo(bits.Skip(offset).Select(RefF32ToBf16).ToArray()), $"bf16 len {len}");
                Convert16.SingleToHalf(f.AsSpan(offset), narrow.AsSpan(1));
                Assert.That(narrow.AsSpan(1, len).ToArray(), Is.EqualTo(bits.Skip(offset).Select(RefF32ToF16).ToArray()), $"f16 len {len}");
                Assert.That(narrow[0] == 0 && narrow.Skip(len + 1).All(x => x == 0), "wrote outside the destination range");
                Convert16.BFloat16ToSingle(h.AsSpan(offset), wide.AsSpan(2));
                Assert.That(wide.AsSpan(2, len).ToArray().Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(h.Skip(offset).Select(RefBf16ToF32)), $"bf16->f32 len {len}");
                Convert16.HalfToSingle(h.AsSpan(offset), wide.AsSpan(2));
                Assert.That(wide.AsSpan(2, len).ToArray().Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(h.Skip(offset).Select(RefF16ToF32)), $"f16->f32 len {len}");
                Assert.That(wide.Take(2).Concat(wide.Skip(len + 2)).All(x => BitConverter.SingleToUInt32Bits(x) == 0), "wrote outside the destination range");
            }
    }

    [Test]
    public void ShortOrOverlappingDestinationThrows()
    {
        Assert.That(() => Convert16.HalfToSingle(new ushort[4], new float[3]), Throws.ArgumentException);
        Assert.That(() => Convert16.SingleToBFloat16(new float[4], new ushort[3]), Throws.ArgumentException);
        var buffer = new float[8];
        Assert.That(() => Convert16.SingleToHalf(buffer, System.Runtime.InteropServices.MemoryMarshal.Cast<float, ushort>(buffer.AsSpan())), Throws.ArgumentException);
    }
}
