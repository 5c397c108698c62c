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

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Values added so far.</summary>
    public long Count { get; private set; }

    internal ReadOnlySpan<long> Counts => _counts;

    /// <summary>Counts one chunk of values.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        ReadOnlySpan<uint> bits = MemoryMarshal.Cast<float, uint>(values);
        long[] counts = _counts;
        int i = 0;
        for (; i <= bits.Length - 4; i += 4)
        {
            counts[(int)((bits[i] & 0x7FFF_FFFF) >> 16)]++;
            counts[(int)((bits[i + 1] & 0x7FFF_FFFF) >> 16)]++;
            counts[(int)((bits[i + 2] & 0x7FFF_FFFF) >> 16)]++;
            counts[(int)((bits[i + 3] & 0x7FFF_FFFF) >> 16)]++;
        }
        for (; i < bits.Length; i++) counts[(int)((bits[i] & 0x7FFF_FFFF) >> 16)]++;
        Count += values.Length;
    }

    /// <summary>Adds the counts of <paramref name="other"/> (a histogram of other data).</summary>
    public void Merge(MagnitudeHistogram other)
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
    /// Plans the second pass for the given ranks (rank k = the k-th largest |x|, 1 &lt;= k &lt;= Count).
    /// Feed the same data again to the returned refinement, then ask it for the values.
    /// </summary>
    public MagnitudeRefinement Refine(params ReadOnlySpan<long> ranks)
    {
        var targets = new MagnitudeRefinement.Target[ranks.Length];
        for (int r = 0; r < ranks.Length; r++)
        {
            long k = ranks[r];
            if (k < 1 || k > Count)
                throw new ArgumentOutOfRangeException(nameof(ranks), k, $"Rank must be in 1..{Count} (the number of values counted).");
            long above = 0; // values in buckets strictly above b
            int b = BucketCount - 1;
            while (above + _counts[b] < k) above += _counts[b--];
            targets[r] = new MagnitudeRefinement.Target(k, b, above);
        }
        return new MagnitudeRefinement(targets);
    }

    /// <summary>
    /// Plans the second pass for quantiles of |x| with numpy's default linear interpolation
    /// (see <see cref="MagnitudeQuantile"/>); read them with <see cref="MagnitudeRefinement.Quantile"/>.
    /// </summary>
    public MagnitudeRefinement RefineForQuantiles(params ReadOnlySpan<double> quantiles)
    {
        var ranks = new List<long>();
        foreach (double q in quantiles)
        {
            var (lower, upper, _) = MagnitudeQuantile.Ranks(Count, q);
            ranks.Add(lower);
            ranks.Add(upper);
        }
        return Refine(ranks.Distinct().ToArray());
    }
}
