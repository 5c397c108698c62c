namespace Amalgam.Kernels.Selection;

/// <summary>
/// numpy's default quantile ("linear", Hyndman and Fan type 7): with the n values sorted
/// ascending as x[0..n-1], h = (n - 1) q, j = floor(h), result = lerp(x[j], x[j+1], h - j).
/// Here order statistics are addressed as k-th largest, so x[j] is rank n - j.
/// </summary>
public static class MagnitudeQuantile
{
    /// <summary>The ranks (k-th largest) of x[j] and x[j+1] and the interpolation fraction h - j.</summary>
    public static (long LowerValueRank, long UpperValueRank, double Fraction) Ranks(long count, double q)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Quantile of no values.");
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "Quantile must be in [0, 1].");
        double h = (count - 1) * q;
        long j = Math.Min((long)Math.Floor(h), count - 1);
        long next = Math.Min(j + 1, count - 1);
        return (count - j, count - next, h - j);
    }

    /// <summary>numpy's _lerp: a + (b - a) t, computed from b's side when t &gt;= 0.5 for accuracy.</summary>
    public static double Lerp(double a, double b, double t)
    {
        double diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
}
