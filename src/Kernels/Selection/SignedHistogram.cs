using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Selection;

/// <summary>
/// First pass of an exact k-th largest SIGNED value (and numpy-style quantiles) over data streamed
/// in any number of chunks, the signed counterpart of <see cref="MagnitudeHistogram"/>. A float is
/// mapped to an order-preserving 32-bit key (<see cref="OrderedKey"/>: flip every bit of a negative
/// value, set the sign bit of a non-negative one; -0 is folded into +0 first), so comparing keys as
/// unsigned integers compares the values. This pass counts keys per coarse bucket key &gt;&gt; 16
/// (2^16 buckets); <see cref="SignedRefinement"/> then counts the low 16 bits inside the buckets
/// holding the wanted ranks in a second pass over the same data. Counts are integers, so
/// histograms of disjoint parts add (<see cref="Merge"/>) and the result does not depend on
/// chunking, order or threads. NaN must not occur (callers check inputs for NaN).
/// </summary>
public sealed class SignedHistogram
{
    /// <summary>Number of coarse buckets: the high 16 bits of the ordered key.</summary>
    public const int BucketCount = 1 << 16;

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Values added so far.</summary>
    public long Count { get; private set; }

    /// <summary>The order-preserving key of <paramref name="x"/> (-0 and +0 share one key).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint OrderedKey(float x)
    {
        uint b = BitConverter.SingleToUInt32Bits(x);
        if (b == 0x8000_0000u) b = 0;                    // -0 == +0
        return (b & 0x8000_0000u) != 0 ? ~b : b | 0x8000_0000u;
    }

    /// <summary>The float whose <see cref="OrderedKey"/> is <paramref name="key"/>.</summary>
    public static float FromOrderedKey(uint key) =>
        BitConverter.UInt32BitsToSingle((key & 0x8000_0000u) != 0 ? key & 0x7FFF_FFFFu : ~key);

    /// <summary>Counts one chunk of values.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        ref long counts = ref MemoryMarshal.GetArrayDataReference(_counts);
        foreach (float v in values) Unsafe.Add(ref counts, (int)(OrderedKey(v) >> 16))++;
        Count += values.Length;
    }

    /// <summary>Adds the counts of <paramref name="other"/> (a histogram of other data).</summary>
    public void Merge(SignedHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int b = 0; b < BucketCount; b++) _counts[b] += other._counts[b];
        Count += other.Count;
    }

    /// <summary>Forgets all counts.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
    }

    /// <summary>
    /// Plans the second pass for the given ranks (rank k = the k-th largest value, 1 &lt;= k &lt;= Count).
    /// Feed the same data again to the returned refinement, then ask it for the values.
    /// </summary>
    public SignedRefinement Refine(params ReadOnlySpan<long> ranks)
    {
        return new SignedRefinement(RankPlan.Locate(_counts, Count, ranks));
    }

    /// <summary>
    /// Plans the second pass for quantiles with numpy's default linear interpolation (see
    /// <see cref="MagnitudeQuantile"/>); read them with <see cref="SignedRefinement.Quantile"/>.
    /// </summary>
    public SignedRefinement RefineForQuantiles(params ReadOnlySpan<double> quantiles) => Refine(RankPlan.QuantileRanks(Count, quantiles));
}
