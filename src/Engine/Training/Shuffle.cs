namespace Amalgam.Engine.Training;

/// <summary>
/// Seeded permutations for mini-batches: Fisher-Yates driven by SplitMix64 (Steele, Lea and Flood
/// 2014), written out here so the order depends only on the seed, never on the .NET version.
/// </summary>
internal sealed class Shuffle(ulong seed)
{
    private ulong _state = seed;

    private ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound) by rejection (no modulo bias).</summary>
    private int Below(int bound)
    {
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)bound;
        ulong r;
        do r = Next(); while (r >= limit);
        return (int)(r % (ulong)bound);
    }

    /// <summary>Shuffles <paramref name="order"/> in place.</summary>
    public void Permute(Span<int> order)
    {
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = Below(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
