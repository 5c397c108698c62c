namespace Amalgam.Engine.LayerInputs;

/// <summary>
/// What <see cref="FeatureCollector"/> gathered from one model over one task's samples, keyed by
/// weight / scale name (ops sharing a weight pool their tokens):
/// <see cref="Grams"/>: X^T X (d_in x d_in, row-major, f64) of the linear inputs, every token of every sample stacked;
/// <see cref="Rows"/>: the stacked inputs themselves (tokens x d_in, f32), when asked for;
/// <see cref="NormSquares"/>: per dimension the mean over tokens of x_hat^2, x_hat the normalised layer-norm input.
/// </summary>
public sealed class FeatureStats
{
    public Dictionary<string, double[]> Grams { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, List<float[]>> RowBlocks { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, double[]> NormSquares { get; } = new(StringComparer.Ordinal);

    /// <summary>Tokens (rows) seen per weight or scale name.</summary>
    public Dictionary<string, long> Tokens { get; } = new(StringComparer.Ordinal);

    /// <summary>The stacked input rows of <paramref name="weight"/> (tokens x d_in) as one array.</summary>
    public float[] Rows(string weight)
    {
        var blocks = RowBlocks[weight];
        var all = new float[blocks.Sum(b => (long)b.Length)];
        long at = 0;
        foreach (var b in blocks)
        {
            b.CopyTo(all, at);
            at += b.Length;
        }
        return all;
    }
}

/// <summary>Which statistics to gather: Gram matrices and/or raw rows of linear inputs, mean squares of layer norms.</summary>
public sealed record FeatureRequest(bool Grams, bool Rows, bool Norms);
