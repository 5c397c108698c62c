using System.Runtime.Intrinsics;
using Amalgam.Kernels.Rng;
using Amalgam.Kernels.Simd;

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

    /// <summary>tau[i] = (bits[i] &gt;&gt; 8) &gt;= threshold ? tau[i] * scale : +0, with only the given vector widths before the scalar tail (tests take one, or none).</summary>
    internal static unsafe void ApplyMask(ReadOnlySpan<uint> bits, uint threshold, float scale, Span<float> tau, VectorWidths widths = VectorWidths.All)
    {
        int i = 0, n = tau.Length;
        if (bits.Length < n) throw new ArgumentException("Fewer random words than entries.", nameof(bits));
        fixed (uint* b = bits)
        fixed (float* t = tau)
        {
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = ApplyMask<Vector512<float>, FloatLanes512>(b, threshold, scale, t, i, n);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = ApplyMask<Vector256<float>, FloatLanes256>(b, threshold, scale, t, i, n);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = ApplyMask<Vector128<float>, FloatLanes128>(b, threshold, scale, t, i, n);
            // Dropped entries become +0 (all bits cleared), as in the vector paths.
            for (; i < n; i++) t[i] = (b[i] >> 8) >= threshold ? t[i] * scale : 0f;
        }
    }

    /// <summary>The vector loop of <see cref="ApplyMask"/> from element <paramref name="i"/>; returns where it stopped.</summary>
    private static unsafe int ApplyMask<TV, TL>(uint* b, uint threshold, float scale, float* t, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var thr = TL.CreateUInt32(threshold);
        var vs = TL.Create(scale);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var keep = TL.GreaterThanOrEqualUInt32(TL.ShiftRightLogical(TL.LoadUInt32(b + i), 8), thr);
            TL.Store(TL.And(TL.Multiply(TL.Load(t + i), vs), keep), t + i);
        }
        return i;
    }
}
