namespace Amalgam.Kernels;

public static class Shapes
{
    /// <summary>Number of elements of a shape; 1 for a 0-d shape. Throws on negative dims or overflow.</summary>
    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), $"negative dimension {d}");
            n = checked(n * d);
        }
        return n;
    }

    /// <summary>Like <see cref="ElementCount"/> but returns false instead of throwing (for parsers).</summary>
    public static bool TryElementCount(ReadOnlySpan<long> shape, out long count)
    {
        count = 1;
        foreach (long d in shape)
        {
            if (d < 0) return false;
            if (d != 0 && count > long.MaxValue / d) return false;
            count *= d;
        }
        return true;
    }

    public static string Format(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
