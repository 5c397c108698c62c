using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Amalgam.Kernels.Rng;

/// <summary>
/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel Random
/// Numbers: As Easy as 1, 2, 3" (SC'11), as in Random123: a 10-round keyed bijection of a 128-bit
/// counter. Being a pure function of (key, counter), any element of a stream can be computed
/// directly, which is what makes DARE masks independent of threads and chunking.
/// Stream layout: see <see cref="PhiloxKey"/>. The AVX-512 and AVX2 paths evaluate 8 or 4 blocks
/// at once with 32x32->64-bit multiplies and give the same bits as the scalar path.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57; // round multipliers
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85; // Weyl key increments (golden ratio, sqrt(3)-1)
    private const float Inv2Pow24 = 1f / (1 << 24);

    /// <summary>One Philox4x32-10 block: the 4 output words for counter (c0..c3) and key (k0, k1).</summary>
    public static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < 10; round++)
        {
            if (round > 0) { k0 += W0; k1 += W1; }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            (c0, c1, c2, c3) = ((uint)(p1 >> 32) ^ c1 ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c3 ^ k1, (uint)p0);
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>Random 32-bit words of elements [startIndex, startIndex + dest.Length) of the stream.</summary>
    public static void FillBits(PhiloxKey key, long startIndex, Span<uint> dest)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startIndex);
        int i = 0, n = dest.Length;
        // Head up to a block boundary, so the vector paths start at word 0 of a block.
        int head = (int)Math.Min(n, (4 - (startIndex & 3)) & 3);
        FillBitsScalar(key, startIndex, dest[..head]);
        i = head;
        ref uint d = ref MemoryMarshal.GetReference(dest);
        if (Avx512F.IsSupported)
            for (; n - i >= 32; i += 32) Blocks8(key, (ulong)(startIndex + i) >> 2, ref Unsafe.Add(ref d, i));
        if (Avx2.IsSupported)
            for (; n - i >= 16; i += 16) Blocks4(key, (ulong)(startIndex + i) >> 2, ref Unsafe.Add(ref d, i));
        FillBitsScalar(key, startIndex + i, dest[i..]);
    }

    /// <summary>The reference path: one block per 4 elements, no SIMD.</summary>
    internal static void FillBitsScalar(PhiloxKey key, long startIndex, Span<uint> dest)
    {
        int i = 0;
        while (i < dest.Length)
        {
            long index = startIndex + i;
            ulong block = (ulong)index >> 2;
            var (x0, x1, x2, x3) = Block((uint)block, (uint)(block >> 32), key.Stream0, key.Stream1, key.Key0, key.Key1);
            for (int word = (int)(index & 3); word < 4 && i < dest.Length; word++, i++)
                dest[i] = word switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
        }
    }

    /// <summary>
    /// Uniform floats in [0, 1) with 24-bit resolution: element value = (bits &gt;&gt; 8) * 2^-24,
    /// exact in float, so every path gives the same bits.
    /// </summary>
    public static void FillUniform(PhiloxKey key, long startIndex, Span<float> dest)
    {
        Span<uint> bits = stackalloc uint[256];
        for (int done = 0; done < dest.Length; done += bits.Length)
        {
            int len = Math.Min(bits.Length, dest.Length - done);
            FillBits(key, startIndex + done, bits[..len]);
            ToUniform(bits[..len], dest.Slice(done, len));
        }
    }

    internal static void ToUniform(ReadOnlySpan<uint> bits, Span<float> dest)
    {
        int i = 0, n = bits.Length;
        ref uint b = ref MemoryMarshal.GetReference(bits);
        ref float d = ref MemoryMarshal.GetReference(dest);
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
                (Vector512.ConvertToSingle(Vector512.ShiftRightLogical(Vector512.LoadUnsafe(ref b, (nuint)i), 8).AsInt32()) * Inv2Pow24).StoreUnsafe(ref d, (nuint)i);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
                (Vector256.ConvertToSingle(Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref b, (nuint)i), 8).AsInt32()) * Inv2Pow24).StoreUnsafe(ref d, (nuint)i);
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
                (Vector128.ConvertToSingle(Vector128.ShiftRightLogical(Vector128.LoadUnsafe(ref b, (nuint)i), 8).AsInt32()) * Inv2Pow24).StoreUnsafe(ref d, (nuint)i);
        for (; i < n; i++) dest[i] = (int)(bits[i] >> 8) * Inv2Pow24;
    }

    // 8 consecutive blocks starting at `block`, 32 words written to `dest` in element order.
    private static void Blocks8(PhiloxKey key, ulong block, ref uint dest)
    {
        var low32 = Vector512.Create(0xFFFF_FFFFUL);
        var ctr = Vector512.Create(block) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        Vector512<ulong> c0 = ctr & low32, c1 = ctr >> 32, c2 = Vector512.Create((ulong)key.Stream0), c3 = Vector512.Create((ulong)key.Stream1);
        var m0 = Vector512.Create((ulong)M0).AsUInt32();
        var m1 = Vector512.Create((ulong)M1).AsUInt32();
        uint k0 = key.Key0, k1 = key.Key1;
        for (int round = 0; round < 10; round++)
        {
            if (round > 0) { k0 += W0; k1 += W1; }
            Vector512<ulong> p0 = Avx512F.Multiply(c0.AsUInt32(), m0), p1 = Avx512F.Multiply(c2.AsUInt32(), m1);
            c0 = (p1 >> 32) ^ c1 ^ Vector512.Create((ulong)k0);
            c1 = p1 & low32;
            c2 = (p0 >> 32) ^ c3 ^ Vector512.Create((ulong)k1);
            c3 = p0 & low32;
        }
        // Lane b of (c0 | c1 << 32) holds words 0,1 of block b; of (c2 | c3 << 32) words 2,3.
        Vector512<ulong> a = c0 | (c1 << 32), b = c2 | (c3 << 32);
        Avx512F.PermuteVar8x64x2(a, Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11), b).AsUInt32().StoreUnsafe(ref dest);
        Avx512F.PermuteVar8x64x2(a, Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15), b).AsUInt32().StoreUnsafe(ref dest, 16);
    }

    // 4 consecutive blocks starting at `block`, 16 words written to `dest` in element order.
    private static void Blocks4(PhiloxKey key, ulong block, ref uint dest)
    {
        var low32 = Vector256.Create(0xFFFF_FFFFUL);
        var ctr = Vector256.Create(block) + Vector256.Create(0UL, 1, 2, 3);
        Vector256<ulong> c0 = ctr & low32, c1 = ctr >> 32, c2 = Vector256.Create((ulong)key.Stream0), c3 = Vector256.Create((ulong)key.Stream1);
        var m0 = Vector256.Create((ulong)M0).AsUInt32();
        var m1 = Vector256.Create((ulong)M1).AsUInt32();
        uint k0 = key.Key0, k1 = key.Key1;
        for (int round = 0; round < 10; round++)
        {
            if (round > 0) { k0 += W0; k1 += W1; }
            Vector256<ulong> p0 = Avx2.Multiply(c0.AsUInt32(), m0), p1 = Avx2.Multiply(c2.AsUInt32(), m1);
            c0 = (p1 >> 32) ^ c1 ^ Vector256.Create((ulong)k0);
            c1 = p1 & low32;
            c2 = (p0 >> 32) ^ c3 ^ Vector256.Create((ulong)k1);
            c3 = p0 & low32;
        }
        Vector256<ulong> a = c0 | (c1 << 32), b = c2 | (c3 << 32);
        Vector256<ulong> lo = Avx2.UnpackLow(a, b), hi = Avx2.UnpackHigh(a, b); // [a0 b0 a2 b2], [a1 b1 a3 b3]
        Avx2.Permute2x128(lo, hi, 0x20).AsUInt32().StoreUnsafe(ref dest);
        Avx2.Permute2x128(lo, hi, 0x31).AsUInt32().StoreUnsafe(ref dest, 8);
    }
}
