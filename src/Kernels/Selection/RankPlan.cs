namespace Amalgam.Kernels.Selection;

/// <summary>One wanted rank and where the coarse histogram put it: its bucket and how many values lie in buckets above.</summary>
internal readonly record struct RankTarget(long Rank, int Bucket, long CountAboveBucket);

/// <summary>
/// The planning step both two-level histograms share (<see cref="MagnitudeHistogram"/> on |x|,
/// <see cref="SignedHistogram"/> on signed values): find the coarse bucket of each wanted rank, and
/// turn quantiles into the ranks their linear interpolation needs.
/// </summary>
internal static class RankPlan
{
    /// <summary>Bucket of each rank (rank k = the k-th largest, 1 &lt;= k &lt;= <paramref name="count"/>), scanning from the top bucket.</summary>
    public static RankTarget[] Locate(long[] counts, long count, ReadOnlySpan<long> ranks)
    {
        var targets = new RankTarget[ranks.Length];
        for (int r = 0; r < ranks.Length; r++)
        {
            long k = ranks[r];
            if (k < 1 || k > count)
                throw new ArgumentOutOfRangeException(nameof(ranks), k, $"Rank must be in 1..{count} (the number of values counted).");
            long above = 0; // values in buckets strictly above b
            int b = counts.Length - 1;
            while (above + counts[b] < k) above += counts[b--];
            targets[r] = new RankTarget(k, b, above);
        }
        return targets;
    }

    /// <summary>The distinct ranks numpy's linear-interpolation quantiles read (see <see cref="MagnitudeQuantile"/>).</summary>
    public static long[] QuantileRanks(long count, ReadOnlySpan<double> quantiles)
    {
        var ranks = new List<long>();
        foreach (double q in quantiles)
        {
            var (lower, upper, _) = MagnitudeQuantile.Ranks(count, q);
            ranks.Add(lower);
            ranks.Add(upper);
        }
        return ranks.Distinct().ToArray();
    }
}
