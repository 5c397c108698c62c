using System.Numerics.Tensors;

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
    private const int Block = 1024;

    /// <summary>tau[i] = |tau[i]| &gt;= threshold ? tau[i] : 0 (the global-scope trim; equal entries kept).</summary>
    public static void TrimInPlace(Span<float> tau, float threshold) => Elementwise.Run<TrimOp>(tau, tau, tau, threshold);

    /// <summary>tau = theta - theta0, then trimmed at <paramref name="threshold"/>, in one pass.</summary>
    public static void SubtractTrim(ReadOnlySpan<float> theta, ReadOnlySpan<float> theta0, float threshold, Span<float> tau) =>
        Elementwise.Run<SubtractTrimOp>(tau, theta, theta0, threshold);

    /// <summary>
    /// gamma[i] = sign(sum_k w_k trimmed[k][i]) in {-1, 0, +1}. Returns sum_i gamma[i] over the tile,
    /// whose total over the model decides the sign used where gamma = 0 (zero_sign = majority:
    /// +1 if the total is &gt;= 0, else -1).
    /// </summary>
    public static long ElectSign(TileSet trimmed, ReadOnlySpan<float> weights, Span<float> gamma)
    {
        CheckTiles(trimmed, weights, gamma.Length);
        long signSum = 0;
        Span<float> ones = stackalloc float[trimmed.Count];
        ReadOnlySpan<float> w = weights.IsEmpty ? Ones(ones) : weights;
        for (int start = 0; start < gamma.Length; start += Block)
        {
            int len = Math.Min(Block, gamma.Length - start);
            var g = gamma.Slice(start, len);
            TaskArithmetic.WeightedSum(trimmed.Slice(start, len), w, g);
            Elementwise.Run<SignOp>(g, g, g, 0f);
            signSum += (long)TensorPrimitives.Sum<float>(g); // at most 1024 values of +-1: exact
        }
        return signSum;
    }

    /// <summary>
    /// Disjoint merge: for each element, the entries w_k trimmed[k][i] whose sign equals the
    /// elected sign (gamma[i], or <paramref name="zeroSign"/> where gamma[i] = 0) are combined
    /// by <paramref name="mode"/>; no agreeing entry gives 0. <paramref name="merged"/> must not
    /// overlap the inputs except <paramref name="gamma"/>.
    /// </summary>
    public static void DisjointMerge(TileSet trimmed, ReadOnlySpan<float> weights, ReadOnlySpan<float> gamma, float zeroSign,
        TiesMergeMode mode, Span<float> merged)
    {
        CheckTiles(trimmed, weights, merged.Length);
        if (gamma.Length != merged.Length) throw new ArgumentException("gamma and merged must have the same length.", nameof(gamma));
        if (zeroSign is not (1f or -1f)) throw new ArgumentOutOfRangeException(nameof(zeroSign), zeroSign, "zeroSign must be +1 or -1.");
        Span<float> ones = stackalloc float[trimmed.Count];
        ReadOnlySpan<float> w = weights.IsEmpty ? Ones(ones) : weights;
        Span<float> sign = stackalloc float[Block];
        Span<float> weightSum = stackalloc float[Block];
        for (int start = 0; start < merged.Length; start += Block)
        {
            int len = Math.Min(Block, merged.Length - start);
            var s = sign[..len];
            var acc = merged.Slice(start, len);
            Elementwise.Run<ResolveZeroOp>(s, gamma.Slice(start, len), s, zeroSign);
            var tiles = trimmed.Slice(start, len);
            acc.Clear();
            switch (mode)
            {
                case TiesMergeMode.Sum:
                    for (int k = 0; k < tiles.Count; k++) Elementwise.Run<AgreeingSumOp>(acc, tiles[k], s, w[k]);
                    break;
                case TiesMergeMode.Mean:
                    var den = weightSum[..len];
                    den.Clear();
                    for (int k = 0; k < tiles.Count; k++)
                    {
                        Elementwise.Run<AgreeingSumOp>(acc, tiles[k], s, w[k]);
                        Elementwise.Run<AgreeingWeightOp>(den, tiles[k], s, w[k]);
                    }
                    Elementwise.Run<DivideOrKeepOp>(acc, acc, den, 0f);
                    break;
                case TiesMergeMode.Max:
                    for (int k = 0; k < tiles.Count; k++) Elementwise.Run<AgreeingMaxOp>(acc, tiles[k], s, w[k]);
                    Elementwise.Run<MultiplyOp>(acc, acc, s, 0f);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown TIES merge mode.");
            }
        }
    }

    private static ReadOnlySpan<float> Ones(Span<float> buffer)
    {
        buffer.Fill(1f);
        return buffer;
    }

    private static void CheckTiles(TileSet tiles, ReadOnlySpan<float> weights, int length)
    {
        if (!weights.IsEmpty && weights.Length != tiles.Count)
            throw new ArgumentException($"{weights.Length} weights for {tiles.Count} tiles.", nameof(weights));
        if (tiles.Count > 0 && tiles.Length != length)
            throw new ArgumentException("Task tiles and output must have the same length.", nameof(tiles));
        if (tiles.Count > 256) throw new ArgumentOutOfRangeException(nameof(tiles), tiles.Count, "At most 256 tasks per call.");
    }
}
