namespace Amalgam.Kernels.Blas;

/// <summary>
/// Which eigenpairs <see cref="Lapack.Ssyevr"/> computes. Eigenvalues are numbered 0..n-1 in
/// ASCENDING order, so <c>Largest(c)</c> is indices n-c..n-1.
/// </summary>
public readonly record struct EigenSelection
{
    internal enum SelectionKind { All, Index, Value, Largest, Smallest }

    internal SelectionKind Kind { get; private init; }
    internal int First { get; private init; }
    internal int Last { get; private init; }
    internal int Count { get; private init; }
    internal float Lower { get; private init; }
    internal float Upper { get; private init; }

    /// <summary>All n eigenpairs.</summary>
    public static EigenSelection All => new() { Kind = SelectionKind.All };

    /// <summary>Eigenpairs with ascending indices <paramref name="first"/>..<paramref name="last"/> (0-based, inclusive).</summary>
    public static EigenSelection ByIndex(int first, int last)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfLessThan(last, first);
        return new() { Kind = SelectionKind.Index, First = first, Last = last };
    }

    /// <summary>The <paramref name="count"/> largest eigenpairs (still returned in ascending order).</summary>
    public static EigenSelection Largest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return new() { Kind = SelectionKind.Largest, Count = count };
    }

    /// <summary>The <paramref name="count"/> smallest eigenpairs.</summary>
    public static EigenSelection Smallest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return new() { Kind = SelectionKind.Smallest, Count = count };
    }

    /// <summary>Eigenpairs whose eigenvalue lies in the half-open interval (<paramref name="lower"/>, <paramref name="upper"/>].</summary>
    public static EigenSelection ByValue(float lower, float upper)
    {
        if (!(lower < upper)) throw new ArgumentOutOfRangeException(nameof(upper), $"value range ({lower}, {upper}] is empty");
        return new() { Kind = SelectionKind.Value, Lower = lower, Upper = upper };
    }

    /// <summary>Most eigenpairs this selection can return for an n x n matrix (the size the outputs must allow).</summary>
    public int MaxCount(int n) => Kind switch
    {
        SelectionKind.Index => Last - First + 1,
        SelectionKind.Largest or SelectionKind.Smallest => Count,
        _ => n,
    };

    public override string ToString() => Kind switch
    {
        SelectionKind.Index => $"eigenpairs {First}..{Last}",
        SelectionKind.Largest => $"largest {Count} eigenpairs",
        SelectionKind.Smallest => $"smallest {Count} eigenpairs",
        SelectionKind.Value => $"eigenvalues in ({Lower}, {Upper}]",
        _ => "all eigenpairs",
    };

    /// <summary>The 0-based inclusive index range for index-style selections on an n x n matrix.</summary>
    internal (int First, int Last) IndexRange(int n)
    {
        var (first, last) = Kind switch
        {
            SelectionKind.Index => (First, Last),
            SelectionKind.Largest => (n - Count, n - 1),
            SelectionKind.Smallest => (0, Count - 1),
            _ => throw new InvalidOperationException("not an index selection"),
        };
        if (first < 0 || last >= n)
            throw new ArgumentOutOfRangeException(nameof(n), $"eigenpair indices {first}..{last} are outside 0..{n - 1} of a {n}x{n} matrix");
        return (first, last);
    }
}
