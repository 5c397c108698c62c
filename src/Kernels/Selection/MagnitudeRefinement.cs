using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Selection;

/// <summary>
/// Second pass of the exact k-th largest |x| (see <see cref="MagnitudeHistogram"/>): counts the
/// low 16 bits of |x|'s bit pattern for the values inside the few coarse buckets that hold the
/// wanted ranks. Feed it exactly the data the histogram saw (any chunking, any order); per-thread
/// copies from <see cref="CreateEmptyCopy"/> add with <see cref="Merge"/>.
/// </summary>
public sealed class MagnitudeRefinement
{
    private readonly RankTarget[] _targets;
    private readonly int[] _buckets;       // distinct coarse buckets, in first-seen order
    private readonly long[][] _fine;       // per bucket: counts of the low 16 bits

    internal MagnitudeRefinement(RankTarget[] targets)
    {
        _targets = targets;
        _buckets = targets.Select(t => t.Bucket).Distinct().ToArray();
        _fine = _buckets.Select(_ => new long[1 << 16]).ToArray();
    }

    /// <summary>The ranks this refinement answers.</summary>
    public IReadOnlyList<long> Ranks => _targets.Select(t => t.Rank).ToArray();

    /// <summary>An empty refinement with the same plan, for another thread's share of the data.</summary>
    public MagnitudeRefinement CreateEmptyCopy() => new(_targets);

    /// <summary>Counts one chunk (values outside the planned buckets are skipped).</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        ReadOnlySpan<uint> bits = MemoryMarshal.Cast<float, uint>(values);
        if (_buckets.Length == 1)
        {
            AddOneBucket(bits, (uint)_buckets[0], _fine[0]);
            return;
        }
        foreach (uint x in bits)
        {
            uint a = x & 0x7FFF_FFFF;
            int slot = Array.IndexOf(_buckets, (int)(a >> 16));
            if (slot >= 0) _fine[slot][a & 0xFFFF]++;
        }
    }

    // Few values fall in the planned bucket, so whole vectors are skipped when none of them does.
    private static void AddOneBucket(ReadOnlySpan<uint> bits, uint bucket, long[] fine)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var mask = Vector256.Create(0x7FFF_FFFFu);
            var target = Vector256.Create(bucket);
            ref uint b = ref MemoryMarshal.GetReference(bits);
            for (; i <= bits.Length - 8; i += 8)
            {
                var hits = Vector256.Equals(Vector256.ShiftRightLogical(Vector256.LoadUnsafe(ref b, (nuint)i) & mask, 16), target);
                if (hits == Vector256<uint>.Zero) continue;
                for (int j = i; j < i + 8; j++)
                {
                    uint a = bits[j] & 0x7FFF_FFFF;
                    if (a >> 16 == bucket) fine[a & 0xFFFF]++;
                }
            }
        }
        for (; i < bits.Length; i++)
        {
            uint a = bits[i] & 0x7FFF_FFFF;
            if (a >> 16 == bucket) fine[a & 0xFFFF]++;
        }
    }

    /// <summary>Adds the counts of a copy that saw other data.</summary>
    public void Merge(MagnitudeRefinement other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!other._buckets.AsSpan().SequenceEqual(_buckets))
            throw new ArgumentException("Refinements of different plans cannot be merged.", nameof(other));
        for (int s = 0; s < _fine.Length; s++)
            for (int j = 0; j < _fine[s].Length; j++) _fine[s][j] += other._fine[s][j];
    }

    /// <summary>The k-th largest |x| (exact; +0 for zeros of either sign).</summary>
    public float KthLargest(long rank) => KthLargest(rank, out _);

    /// <summary>
    /// The k-th largest |x|, and how many values have |x| strictly greater (so
    /// <c>rank - countGreater</c> values equal to the result belong to the top <c>rank</c>).
    /// </summary>
    public float KthLargest(long rank, out long countGreater)
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
        countGreater = above;
        return BitConverter.UInt32BitsToSingle(((uint)target.Bucket << 16) | (uint)low);
    }

    /// <summary>
    /// Quantile <paramref name="q"/> of |x| with linear interpolation between order statistics
    /// (numpy's default), for a plan from <see cref="MagnitudeHistogram.RefineForQuantiles"/>.
    /// </summary>
    public double Quantile(long count, double q)
    {
        var (lower, upper, fraction) = MagnitudeQuantile.Ranks(count, q);
        return MagnitudeQuantile.Lerp(KthLargest(lower), KthLargest(upper), fraction);
    }
}
