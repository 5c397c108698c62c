namespace Amalgam.Kernels;

/// <summary>
/// Process-wide cap on worker threads for kernels (the CLI's <c>--threads</c> sets it).
/// Thread count never changes results: work is cut into chunks that depend only on its size.
/// </summary>
public static class Parallelism
{
    private static int _maxThreads = Environment.ProcessorCount;

    /// <summary>At least 1; defaults to <see cref="Environment.ProcessorCount"/>.</summary>
    public static int MaxThreads
    {
        get => Volatile.Read(ref _maxThreads);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxThreads));
            Volatile.Write(ref _maxThreads, value);
        }
    }

    /// <summary><paramref name="threads"/> if positive, <see cref="MaxThreads"/> for 0; negative throws.</summary>
    public static int Resolve(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        return threads > 0 ? threads : MaxThreads;
    }
}
