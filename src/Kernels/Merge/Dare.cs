using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Rng;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// DARE (Yu et al. 2024, "Language Models are Super Mario"): drop each task-vector entry with
/// probability p and rescale the survivors. Element i of a tensor is kept iff its Philox uniform
/// u_i = (bits_i &gt;&gt; 8) * 2^-24 satisfies u_i &gt;= p, i.e. (bits_i &gt;&gt; 8) &gt;= ceil(p * 2^24);
/// P(keep) = 1 - p up to 2^-24. The decision depends only on (key, i), never on the tile.
/// </summary>
public static class Dare
{
    private const int Batch = 256; // random words generated per step (stack, L1-resident)

    /// <summary>The integer keep threshold for drop rate <paramref name="dropRate"/> in [0, 1].</summary>
    public static uint KeepThreshold(float dropRate)
    {
        if (!(dropRate >= 0f && dropRate <= 1f))
            throw new ArgumentOutOfRangeException(nameof(dropRate), dropRate, "DARE drop rate must be in [0, 1].");
        return (uint)Math.Ceiling(dropRate * 16777216.0);
    }

    /// <summary>
    /// In place: tau[j] = keep(startIndex + j) ? tau[j] * scale : 0. Use scale = 1/(1-p) for the
    /// DARE rescale, 1 for none, or the per-tensor L1 ratio from <see cref="L1Norms"/>.
    /// </summary>
    public static void MaskAndScale(PhiloxKey key, long startIndex, float dropRate, float scale, Span<float> tau)
    {
        uint threshold = KeepThreshold(dropRate);
        Span<uint> bits = stackalloc uint[Batch];
        for (int done = 0; done < tau.Length; done += Batch)
        {
            int len = Math.Min(Batch, tau.Length - done);
            Philox.FillBits(key, startIndex + done, bits[..len]);
            ApplyMask(bits[..len], threshold, scale, tau.Slice(done, len));
        }
    }

    /// <summary>Keep flags (1 kept, 0 dropped) of elements [startIndex, startIndex + keep.Length).</summary>
    public static void KeepMask(PhiloxKey key, long startIndex, float dropRate, Span<byte> keep)
    {
        uint threshold = KeepThreshold(dropRate);
        Span<uint> bits = stackalloc uint[Batch];
        for (int done = 0; done < keep.Length; done += Batch)
        {
            int len = Math.Min(Batch, keep.Length - done);
            Philox.FillBits(key, startIndex + done, bits[..len]);
            for (int j = 0; j < len; j++) keep[done + j] = (bits[j] >> 8) >= threshold ? (byte)1 : (byte)0;
        }
    }

    /// <summary>
    /// Sum of |tau| over this tile and over its kept entries, for the L1 rescale
    /// |tau|_1 / |mask * tau|_1 of a whole tensor. Sums are in double, sequential within the tile;
    /// summing tile results in tile order makes the ratio deterministic for a fixed tiling.
    /// </summary>
    public static (double Total, double Kept) L1Norms(PhiloxKey key, long startIndex, float dropRate, ReadOnlySpan<float> tau)
    {
        uint threshold = KeepThreshold(dropRate);
        Span<uint> bits = stackalloc uint[Batch];
        double total = 0, kept = 0;
        for (int done = 0; done < tau.Length; done += Batch)
        {
            int len = Math.Min(Batch, tau.Length - done);
            Philox.FillBits(key, startIndex + done, bits[..len]);
            for (int j = 0; j < len; j++)
            {
                double a = Math.Abs((double)tau[done + j]);
                total += a;
                if ((bits[j] >> 8) >= threshold) kept += a;
            }
        }
        return (total, kept);
    }

    private static void ApplyMask(ReadOnlySpan<uint> bits, uint threshold, float scale, Span<float> tau)
    {
        int i = 0, n = tau.Length;
        ref uint b = ref MemoryMarshal.GetReference(bits);
        ref float t = ref MemoryMarshal.GetReference(tau);
        if (Vector512.IsHardwareAccelerated)
        {
            var thr = Vector512.Create(threshold);
            for (; i <= n - 16; i += 16)
            {
                var keep = Vector512.GreaterThanOrEqual(Vector512.ShiftRightLogical(Vector512.LoadUnsafe(ref b, (nuint)i), 8), thr).AsSingle();
                (Vector512.LoadUnsafe(ref t, (nuint)i) * scale & keep).StoreUnsafe(ref t, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var thr = Vector256.Create(threshold);
            for (; i <= n - 8; i += 8)
            {
                var keep = Vector256.GreaterThanOrEqual(Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref b, (nuint)i), 8), thr).AsSingle();
                (Vector256.LoadUnsafe(ref t, (nuint)i) * scale & keep).StoreUnsafe(ref t, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var thr = Vector128.Create(threshold);
            for (; i <= n - 4; i += 4)
            {
                var keep = Vector128.GreaterThanOrEqual(Vector128.ShiftRightLogical(Vector128.LoadUnsafe(ref b, (nuint)i), 8), thr).AsSingle();
                (Vector128.LoadUnsafe(ref t, (nuint)i) * scale & keep).StoreUnsafe(ref t, (nuint)i);
            }
        }
        // Dropped entries become +0 (all bits cleared), as in the vector paths.
        for (; i < n; i++) tau[i] = (bits[i] >> 8) >= threshold ? tau[i] * scale : 0f;
    }
}
