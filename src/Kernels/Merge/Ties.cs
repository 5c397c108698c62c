namespace Amalgam.Kernels.Merge;

/// <summary>How TIES combines the agreeing entries of one element.</summary>
public enum TiesMergeMode
{
    /// <summary>Sum of the agreeing (weighted) entries.</summary>
    Sum,
    /// <summary>
    /// Sum of agreeing weighted entries over the sum of their weights (divisor 0 becomes 1). With
    /// unit weights: the mean over the agreeing non-zero entries. With task weights: mergekit's TIES.
    /// </summary>
    Mean,
    /// <summary>The agreeing entry of largest magnitude (with the elected sign).</summary>
    Max,
}

/// <summary>
/// TIES-Merging (Yadav et al. 2023) tile kernels: trim, elect sign, disjoint merge; finish with
/// <see cref="TaskArithmetic.AddScaled"/> (theta0 + lambda * merged). Weights (empty span = all 1)
/// scale each task's trimmed tile before electing and merging, as mergekit does. Sums over tasks
/// run in the order k = 0..K-1, so results do not depend on tile boundaries.
/// </summary>
public static class Ties
{
    /// <summary>Most tasks one call takes (per-element sign and weight buffers live on the stack).</summary>
    public const int MaxTasks = 256;

    /// <summary>tau[i] = |tau[i]| &gt;= threshold ? tau[i] : 0 (the global-scope trim; equal entries kept).</summary>
    public static void TrimInPlace(Span<float> tau, float threshold) => Elementwise.Run<TrimOp>(tau, tau, tau, threshold);

    /// <summary>
    /// Entries TIES keeps of <paramref name="count"/> at <paramref name="density"/> in [0, 1]:
    /// floor(density * count) computed in double (as mergekit's int(density * numel)), at least 1
    /// when density &gt; 0 and count &gt; 0.
    /// </summary>
    public static long KeepCount(long count, double density)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!(density >= 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), density, "Density must be in [0, 1].");
        long keep = Math.Min(count, (long)Math.Floor(density * count));
        return density > 0 && count > 0 ? Math.Max(1, keep) : keep;
    }

    /// <summary>
    /// Per-tensor trim (scope = tensor): keeps exactly <see cref="KeepCount"/> entries of largest
    /// |tau| in the whole tensor <paramref name="tau"/>, lower index winning ties; zeroes the rest.
    /// </summary>
    public static void TrimTensorInPlace(Span<float> tau, double density) =>
        Selection.MagnitudeSelect.TopKInPlace(tau, KeepCount(tau.Length, density));

    /// <summary>tau = theta - theta0, then trimmed at <paramref name="threshold"/>, in one pass.</summary>
    public static void SubtractTrim(ReadOnlySpan<float> theta, ReadOnlySpan<float> theta0, float threshold, Span<float> tau) =>
        Elementwise.Run<SubtractTrimOp>(tau, theta, theta0, threshold);

    /// <summary>
    /// gamma[i] = sign(sum_k w_k trimmed[k][i]) in {-1, 0, +1}. Returns sum_i gamma[i] over the tile,
    /// whose total over the model decides the sign used where gamma = 0 (zero_sign = majority:
    /// +1 if the total is &gt;= 0, else -1).
    /// </summary>
    public static unsafe long ElectSign(TileSet trimmed, ReadOnlySpan<float> weights, Span<float> gamma)
    {
        CheckTiles(trimmed, weights, gamma.Length);
        int taskCount = trimmed.Count;
        if (taskCount == 0) { gamma.Clear(); return 0; }
        Span<float> w = stackalloc float[taskCount];
        Span<nint> tiles = stackalloc nint[taskCount];
        if (weights.IsEmpty) w.Fill(1f); else weights.CopyTo(w);
        fixed (float* stackedBase = trimmed.StackedBuffer)
        fixed (float* wp = w)
        fixed (nint* pp = tiles)
        fixed (float* gp = gamma)
        {
            trimmed.GetPointers(stackedBase, tiles);
            return TiesKernels.Elect((float**)pp, wp, taskCount, gp, gamma.Length);
        }
    }

    /// <summary>
    /// Disjoint merge: for each element, the entries w_k trimmed[k][i] whose sign equals the
    /// elected sign (gamma[i], or <paramref name="zeroSign"/> where gamma[i] = 0) are combined
    /// by <paramref name="mode"/>; no agreeing entry gives 0. <paramref name="merged"/> must not
    /// overlap the inputs except <paramref name="gamma"/>.
    /// </summary>
    public static unsafe void DisjointMerge(TileSet trimmed, ReadOnlySpan<float> weights, ReadOnlySpan<float> gamma, float zeroSign,
        TiesMergeMode mode, Span<float> merged)
    {
        CheckTiles(trimmed, weights, merged.Length);
        if (gamma.Length != merged.Length) throw new ArgumentException("gamma and merged must have the same length.", nameof(gamma));
        CheckMergeOptions(zeroSign, mode);
        int taskCount = trimmed.Count;
        Span<float> w = stackalloc float[taskCount];
        Span<nint> tiles = stackalloc nint[taskCount];
        if (weights.IsEmpty) w.Fill(1f); else weights.CopyTo(w);
        fixed (float* stackedBase = trimmed.StackedBuffer)
        fixed (float* wp = w)
        fixed (nint* pp = tiles)
        fixed (float* gp = gamma)
        fixed (float* op = merged)
        {
            trimmed.GetPointers(stackedBase, tiles);
            TiesKernels.Merge((float**)pp, wp, taskCount, gp, zeroSign, mode, op, merged.Length);
        }
    }

    /// <summary>
    /// The whole TIES merge of a tile once the zero sign is known, fused per element:
    /// output = theta0 + lambda * DisjointMerge(trimmed, ElectSign(trimmed)) with the same IEEE
    /// operations as <see cref="ElectSign"/>, <see cref="DisjointMerge"/> and
    /// <see cref="TaskArithmetic.AddScaled"/> in sequence (bit-identical), in one pass.
    /// <paramref name="output"/> must not overlap the inputs.
    /// </summary>
    public static unsafe void ElectMergeAddScaled(TileSet trimmed, ReadOnlySpan<float> weights, float zeroSign, TiesMergeMode mode,
        ReadOnlySpan<float> theta0, float lambda, Span<float> output)
    {
        CheckTiles(trimmed, weights, output.Length);
        if (theta0.Length != output.Length) throw new ArgumentException("theta0 and output must have the same length.", nameof(theta0));
        CheckMergeOptions(zeroSign, mode);
        int taskCount = trimmed.Count;
        if (taskCount == 0) { TaskArithmetic.AddScaled(theta0, lambda, new float[output.Length], output); return; }
        Span<float> w = stackalloc float[taskCount];
        Span<nint> tiles = stackalloc nint[taskCount];
        if (weights.IsEmpty) w.Fill(1f); else weights.CopyTo(w);
        fixed (float* stackedBase = trimmed.StackedBuffer)
        fixed (float* wp = w)
        fixed (nint* pp = tiles)
        fixed (float* t0 = theta0)
        fixed (float* op = output)
        {
            trimmed.GetPointers(stackedBase, tiles);
            TiesKernels.ElectMergeAddScaled((float**)pp, wp, taskCount, zeroSign, mode, t0, lambda, op, output.Length);
        }
    }

    private static void CheckMergeOptions(float zeroSign, TiesMergeMode mode)
    {
        if (zeroSign is not (1f or -1f)) throw new ArgumentOutOfRangeException(nameof(zeroSign), zeroSign, "zeroSign must be +1 or -1.");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown TIES merge mode.");
    }

    private static void CheckTiles(TileSet tiles, ReadOnlySpan<float> weights, int length)
    {
        if (!weights.IsEmpty && weights.Length != tiles.Count)
            throw new ArgumentException($"{weights.Length} weights for {tiles.Count} tiles.", nameof(weights));
        if (tiles.Count > 0 && tiles.Length != length)
            throw new ArgumentException("Task tiles and output must have the same length.", nameof(tiles));
        if (tiles.Count > MaxTasks) throw new ArgumentOutOfRangeException(nameof(tiles), tiles.Count, $"At most {MaxTasks} tasks per call.");
    }
}
