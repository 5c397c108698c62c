namespace Amalgam.Engine.Zoo;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014) with Box-Muller normals: the same seed gives the same
/// numbers on every run and thread count (unlike System.Random's unspecified algorithm).
/// </summary>
internal sealed class SeededRandom(ulong seed)
{
    private ulong _state = seed;
    private double? _spare;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound).</summary>
    public int Below(int bound)
    {
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)bound;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % (ulong)bound);
    }

    /// <summary>Standard normal (Box-Muller, both values used).</summary>
    public double NextNormal()
    {
        if (_spare is { } s)
        {
            _spare = null;
            return s;
        }
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    public float[] Normal(long count, double std)
    {
        var v = new float[count];
        for (long i = 0; i < count; i++) v[i] = (float)(NextNormal() * std);
        return v;
    }

    /// <summary>A seed derived from this generator's seed and a label (stable across runs), for independent streams.</summary>
    public static ulong Derive(ulong seed, string label)
    {
        ulong h = 1469598103934665603UL ^ seed;
        foreach (char c in label) h = (h ^ c) * 1099511628211UL;
        return new SeededRandom(h).NextUInt64();
    }
}
