namespace Amalgam.Kernels.Selection;

/// <summary>
/// Second pass of the exact k-th largest signed value (see <see cref="SignedHistogram"/>): counts
/// the low 16 bits of the ordered key for values inside the few coarse buckets holding the wanted
/// ranks. Feed it exactly the data the histogram saw (any chunking, any order); per-thread copies
/// from <see cref="CreateEmptyCopy"/> add with <see cref="Merge"/>.
/// </summary>
public sealed class SignedRefinement
{
    private readonly RankTarget[] _targets;
    private readonly int[] _buckets;       // distinct coarse buckets, in first-seen order
    private readonly long[][] _fine;       // per bucket: counts of the low 16 bits

    internal SignedRefinement(RankTarget[] targets)
    {
        _targets = targets;
        _buckets = targets.Select(t => t.Bucket).Distinct().ToArray();
        _fine = _buckets.Select(_ => new long[1 << 16]).ToArray();
    }

    /// <summary>The smallest value any planned bucket holds: values below it are never counted.</summary>
    public float LowerBound => SignedHistogram.FromOrderedKey((uint)_buckets.Min() << 16);

    /// <summary>An empty refinement with the same plan, for another thread's share of the data.</summary>
    public SignedRefinement CreateEmptyCopy() => new(_targets);

    /// <summary>Counts one chunk (values outside the planned buckets are skipped).</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        if (_buckets.Length == 1)
        {
            int bucket = _buckets[0];
            long[] fine = _fine[0];
            foreach (float v in values)
            {
                uint key = SignedHistogram.OrderedKey(v);
                if ((int)(key >> 16) == bucket) fine[key & 0xFFFF]++;
            }
            return;
        }
        foreach (float v in values)
        {
            uint key = SignedHistogram.OrderedKey(v);
            int slot = Array.IndexOf(_buckets, (int)(key >> 16));
            if (slot >= 0) _fine[slot][key & 0xFFFF]++;
        }
    }

    /// <summary>Adds the counts of a copy that saw other data.</summary>
    public void Merge(SignedRefinement other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other._buckets.AsSpan().SequenceEqual(_buckets))
            throw new ArgumentException("Refinements of different plans cannot be merged.", nameof(other));
        for (int s = 0; s < _fine.Length; s++)
            for (int j = 0; j < _fine[s].Length; j++) _fine[s][j] += other._fine[s][j];
    }

    /// <summary>The k-th largest value (exact; zeros of either sign come back as +0).</summary>
    public float KthLargest(long rank)
    {
        int t = Array.FindIndex(_targets, x => x.Rank == rank);
        if (t < 0) throw new ArgumentException($"Rank {rank} was not planned in this refinement.", nameof(rank));
        var target = _targets[t];
        long[] fine = _fine[Array.IndexOf(_buckets, target.Bucket)];
        long above = target.CountAboveBucket;
        int low = 0xFFFF;
        while (low > 0 && above + fine[low] < rank) above += fine[low--];
        if (above + fine[low] < rank)
            throw new InvalidOperationException("The refinement saw fewer values than the histogram; feed it the same data.");
        return SignedHistogram.FromOrderedKey(((uint)target.Bucket << 16) | (uint)low);
    }

    /// <summary>
    /// Quantile <paramref name="q"/> with linear interpolation between order statistics (numpy's
    /// default), for a plan from <see cref="SignedHistogram.RefineForQuantiles"/>.
    /// </summary>
    public double Quantile(long count, double q)
    {
        var (lower, upper, fraction) = MagnitudeQuantile.Ranks(count, q);
        return MagnitudeQuantile.Lerp(KthLargest(lower), KthLargest(upper), fraction);
    }
}
