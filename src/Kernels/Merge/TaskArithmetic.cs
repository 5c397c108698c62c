namespace Amalgam.Kernels.Merge;

/// <summary>
/// Task arithmetic (Ilharco et al. 2023): theta = theta0 + lambda * sum_k w_k tau_k with
/// tau_k = theta_k - theta0, plus the element-wise pieces other methods share. Tile kernels: the
/// caller streams tensors through in cache-sized tiles. The sum over k runs in the fixed order
/// k = 0..K-1 for every element, so results do not depend on tile boundaries or threads.
/// </summary>
public static class TaskArithmetic
{
    // Elements per inner block: the running sum (4 KiB) and theta0's block stay in L1 while the
    // K task tiles stream past.
    private const int Block = 1024;

    /// <summary>
    /// output = theta0 + lambda * sum_k weights[k] * (thetas[k] - theta0), fused: each input is
    /// read once. <paramref name="output"/> must not overlap the inputs.
    /// </summary>
    public static void Merge(ReadOnlySpan<float> theta0, TileSet thetas, ReadOnlySpan<float> weights, float lambda, Span<float> output)
    {
        CheckShapes(theta0, thetas, weights, output);
        if (thetas.Count == 0) { theta0.CopyTo(output); return; }
        for (int start = 0; start < output.Length; start += Block)
        {
            int len = Math.Min(Block, output.Length - start);
            var t0 = theta0.Slice(start, len);
            var acc = output.Slice(start, len);
            Elementwise.Run<WeightedDeltaOp>(acc, thetas[0].Slice(start, len), t0, weights[0]);
            for (int k = 1; k < thetas.Count; k++)
                Elementwise.Run<AccumulateWeightedDeltaOp>(acc, thetas[k].Slice(start, len), t0, weights[k]);
            Elementwise.Run<AddScaledOp>(acc, t0, acc, lambda);
        }
    }

    /// <summary>
    /// output = theta0 + lambda * sum_k weights[k] * taus[k], for task vectors already formed
    /// (e.g. after DARE). <paramref name="output"/> must not overlap the inputs.
    /// </summary>
    public static void MergeDeltas(ReadOnlySpan<float> theta0, TileSet taus, ReadOnlySpan<float> weights, float lambda, Span<float> output)
    {
        CheckShapes(theta0, taus, weights, output);
        if (taus.Count == 0) { theta0.CopyTo(output); return; }
        for (int start = 0; start < output.Length; start += Block)
        {
            int len = Math.Min(Block, output.Length - start);
            var acc = output.Slice(start, len);
            WeightedSum(taus.Slice(start, len), weights, acc);
            Elementwise.Run<AddScaledOp>(acc, theta0.Slice(start, len), acc, lambda);
        }
    }

    /// <summary>sum[i] = sum_k weights[k] * tiles[k][i], k in order 0..K-1 (0 when K = 0).</summary>
    public static void WeightedSum(TileSet tiles, ReadOnlySpan<float> weights, Span<float> sum)
    {
        if (weights.Length != tiles.Count) throw new ArgumentException($"{weights.Length} weights for {tiles.Count} tiles.", nameof(weights));
        if (sum.Length != tiles.Length) throw new ArgumentException("Output tile length must equal the input tile length.", nameof(sum));
        if (tiles.Count == 0) { sum.Clear(); return; }
        Elementwise.Run<ScaleOp>(sum, tiles[0], tiles[0], weights[0]);
        for (int k = 1; k < tiles.Count; k++) Elementwise.Run<AccumulateScaledOp>(sum, tiles[k], tiles[k], weights[k]);
    }

    /// <summary>tau = theta - theta0 (tau may alias theta).</summary>
    public static void SubtractInto(ReadOnlySpan<float> theta, ReadOnlySpan<float> theta0, Span<float> tau) =>
        Elementwise.Run<SubtractOp>(tau, theta, theta0, 0f);

    /// <summary>output = theta0 + lambda * merged (output may alias merged).</summary>
    public static void AddScaled(ReadOnlySpan<float> theta0, float lambda, ReadOnlySpan<float> merged, Span<float> output) =>
        Elementwise.Run<AddScaledOp>(output, theta0, merged, lambda);

    private static void CheckShapes(ReadOnlySpan<float> theta0, TileSet tiles, ReadOnlySpan<float> weights, Span<float> output)
    {
        if (weights.Length != tiles.Count) throw new ArgumentException($"{weights.Length} weights for {tiles.Count} tiles.", nameof(weights));
        if (theta0.Length != output.Length || (tiles.Count > 0 && tiles.Length != output.Length))
            throw new ArgumentException("theta0, task tiles and output must have the same length.", nameof(output));
    }
}
