using System.Buffers;
using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Selection;

/// <summary>
/// Selection by |x| within one tensor (one span). Values are ranked by |x| (as the bit pattern of
/// |x|, see <see cref="MagnitudeHistogram"/>), and among equal |x| the lower index ranks higher,
/// so "the top m" is always exactly m entries. Large spans use the two-pass radix histogram
/// (O(n), no sort); small ones sort a copy of the magnitudes.
/// </summary>
public static class MagnitudeSelect
{
    private const int SortBelow = 4096;

    [ThreadStatic] private static MagnitudeHistogram? t_histogram;

    /// <summary>The k-th largest |x| of <paramref name="x"/> (1 &lt;= k &lt;= x.Length).</summary>
    public static float KthLargest(ReadOnlySpan<float> x, long k) => KthLargest(x, k, out _);

    /// <summary>The k-th largest |x| and how many entries have |x| strictly greater.</summary>
    public static float KthLargest(ReadOnlySpan<float> x, long k, out long countGreater)
    {
        if (k < 1 || k > x.Length)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"Rank must be in 1..{x.Length}.");
        if (x.Length < SortBelow) return KthLargestBySort(x, (int)k, out countGreater);
        var histogram = t_histogram ??= new MagnitudeHistogram(); // 384 KiB: reused per thread
        histogram.Clear();
        histogram.Add(x);
        var refinement = histogram.Refine(k);
        refinement.Add(x);
        return refinement.KthLargest(k, out countGreater);
    }

    /// <summary>Zeroes every entry except the <paramref name="keep"/> with largest |x| (lower index wins ties).</summary>
    public static void TopKInPlace(Span<float> x, long keep)
    {
        var cut = TopCut(x, keep);
        for (int i = 0; i < x.Length; i++)
            if (!cut.Takes(Magnitude(x[i]))) x[i] = 0f;
    }

    /// <summary>mask[i] = 1 for the <paramref name="keep"/> entries with largest |x| (lower index wins ties), else 0.</summary>
    public static void TopKMask(ReadOnlySpan<float> x, long keep, Span<byte> mask)
    {
        if (mask.Length != x.Length) throw new ArgumentException("Mask length must equal the data length.", nameof(mask));
        var cut = TopCut(x, keep);
        for (int i = 0; i < x.Length; i++) mask[i] = cut.Takes(Magnitude(x[i])) ? (byte)1 : (byte)0;
    }

    /// <summary>
    /// Model Breadcrumbs: zeroes the <paramref name="dropBottom"/> entries with smallest |x| and the
    /// <paramref name="dropTop"/> with largest |x|, in the same order (|x|, then lower index higher):
    /// what survives is ranks dropTop+1 .. n-dropBottom.
    /// </summary>
    public static void DropBottomTopInPlace(Span<float> x, long dropBottom, long dropTop)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dropBottom);
        ArgumentOutOfRangeException.ThrowIfNegative(dropTop);
        long n = x.Length;
        var top = TopCut(x, Math.Min(dropTop, n));
        var upToBottom = TopCut(x, Math.Max(0, n - dropBottom));
        for (int i = 0; i < x.Length; i++)
        {
            uint a = Magnitude(x[i]);
            bool inTop = top.Takes(a);          // both cuts must see every entry in index order
            bool aboveBottom = upToBottom.Takes(a);
            if (inTop || !aboveBottom) x[i] = 0f;
        }
    }

    private static uint Magnitude(float v) => BitConverter.SingleToUInt32Bits(v) & 0x7FFF_FFFF;

    /// <summary>Membership in the top m, decided in index order: |x| above the m-th largest, or equal while ties remain.</summary>
    private struct Cut(uint threshold, long ties)
    {
        private long _ties = ties;

        public bool Takes(uint magnitude)
        {
            if (magnitude > threshold) return true;
            if (magnitude != threshold || _ties <= 0) return false;
            _ties--;
            return true;
        }
    }

    private static Cut TopCut(ReadOnlySpan<float> x, long m)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if (m == 0) return new Cut(uint.MaxValue, 0);      // nothing is above the largest pattern
        if (m >= x.Length) return new Cut(0, x.Length);   // everything
        float t = KthLargest(x, m, out long greater);
        return new Cut(Magnitude(t), m - greater);
    }

    private static float KthLargestBySort(ReadOnlySpan<float> x, int k, out long countGreater)
    {
        int n = x.Length;
        uint[] rented = ArrayPool<uint>.Shared.Rent(n);
        Span<uint> a = rented.AsSpan(0, n);
        ReadOnlySpan<uint> bits = MemoryMarshal.Cast<float, uint>(x);
        for (int i = 0; i < n; i++) a[i] = bits[i] & 0x7FFF_FFFF;
        a.Sort();
        int at = n - k;
        uint t = a[at];
        int end = at + 1;
        while (end < n && a[end] == t) end++;
        countGreater = n - end;
        ArrayPool<uint>.Shared.Return(rented);
        return BitConverter.UInt32BitsToSingle(t);
    }
}
