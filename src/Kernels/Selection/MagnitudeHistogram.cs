using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Selection;

/// <summary>
/// First pass of an exact k-th largest |x| over data streamed in any number of chunks (a whole
/// model, possibly more than 2^31 values). For non-negative floats the IEEE bit pattern is
/// monotonic in the value, so |x| is ranked by the integer a = bits(x) &amp; 0x7FFFFFFF (+0 and -0
/// are equal; NaN ranks above +inf). This pass counts values per coarse bucket a &gt;&gt; 16
/// (2^15 buckets); <see cref="Refine"/> then names the buckets holding the wanted ranks and a second
/// pass over the same data (<see cref="MagnitudeRefinement"/>) counts the low 16 bits inside them.
/// Histograms of disjoint parts of the data add (<see cref="Merge"/>), so threads can each fill
/// their own; counts are integers, so the result does not depend on chunking or order.
/// </summary>
public sealed class MagnitudeHistogram
{
    /// <summary>Number of coarse buckets: the 15 bits above the low 16 of |x|'s bit pattern.</summary>
    public const int BucketCount = 1 << 15;

    // Counts accumulate in 32-bit counters (half the cache footprint of 64-bit ones; measured
    // faster, as were they than 2 or 4 interleaved sub-histograms) and are folded into the 64-bit
    // totals before any counter could wrap and whenever the totals are read.
    private readonly long[] _counts = new long[BucketCount];
    private readonly uint[] _pending = new uint[BucketCount];
    private long _pendingCount;

    /// <summary>Values between folds: keeps every 32-bit counter below 2^32 (tests lower it).</summary>
    internal long FoldEvery { get; init; } = 1L << 31;

    /// <summary>Values added so far.</summary>
    public long Count { get; private set; }

    /// <summary>Counts one chunk of values.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        long foldEvery = FoldEvery;
        while (!values.IsEmpty)
        {
            if (_pendingCount >= foldEvery) Fold();
            int len = (int)Math.Min(values.Length, foldEvery - _pendingCount);
            AddPending(MemoryMarshal.Cast<float, uint>(values[..len]));
            _pendingCount += len;
            Count += len;
            values = values[len..];
        }
    }

    private void AddPending(ReadOnlySpan<uint> bits)
    {
        ref uint pending = ref MemoryMarshal.GetArrayDataReference(_pending);
        int i = 0;
        for (; i <= bits.Length - 4; i += 4)
        {
            Unsafe.Add(ref pending, (int)((bits[i] & 0x7FFF_FFFF) >> 16))++;
            Unsafe.Add(ref pending, (int)((bits[i + 1] & 0x7FFF_FFFF) >> 16))++;
            Unsafe.Add(ref pending, (int)((bits[i + 2] & 0x7FFF_FFFF) >> 16))++;
            Unsafe.Add(ref pending, (int)((bits[i + 3] & 0x7FFF_FFFF) >> 16))++;
        }
        for (; i < bits.Length; i++) Unsafe.Add(ref pending, (int)((bits[i] & 0x7FFF_FFFF) >> 16))++;
    }

    private void Fold()
    {
        if (_pendingCount == 0) return;
        for (int b = 0; b < BucketCount; b++) _counts[b] += _pending[b];
        Array.Clear(_pending);
        _pendingCount = 0;
    }

    /// <summary>Adds the counts of <paramref name="other"/> (a histogram of other data).</summary>
    public void Merge(MagnitudeHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Fold();
        other.Fold();
        for (int b = 0; b < BucketCount; b++) _counts[b] += other._counts[b];
        Count += other.Count;
    }

    /// <summary>Forgets all counts.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Array.Clear(_pending);
        _pendingCount = 0;
        Count = 0;
    }

    /// <summary>
    /// Plans the second pass for the given ranks (rank k = the k-th largest |x|, 1 &lt;= k &lt;= Count).
    /// Feed the same data again to the returned refinement, then ask it for the values.
    /// </summary>
    public MagnitudeRefinement Refine(params ReadOnlySpan<long> ranks)
    {
        Fold();
        return new MagnitudeRefinement(RankPlan.Locate(_counts, Count, ranks));
    }

    /// <summary>
    /// Plans the second pass for quantiles of |x| with numpy's default linear interpolation
    /// (see <see cref="MagnitudeQuantile"/>); read them with <see cref="MagnitudeRefinement.Quantile"/>.
    /// </summary>
    public MagnitudeRefinement RefineForQuantiles(params ReadOnlySpan<double> quantiles) => Refine(RankPlan.QuantileRanks(Count, quantiles));
}
