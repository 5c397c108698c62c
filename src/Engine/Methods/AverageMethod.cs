using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Weighted average of the task models: theta = sum_k w_k theta_k / sum_k w_k (the base is not
/// used; task-private parameters stay per task). `weights` default 1; their sum must not be 0.
/// Per tensor, one fused pass: the normalised weights w_k / sum w are applied in f32 by the
/// weighted-sum kernel, k in order 0..K-1, so the result is the same at any thread count.
/// </summary>
public sealed class AverageMethod : MergeMethod
{
    public static readonly MethodSpec Spec = new("average",
        "sum_k w_k theta_k / sum_k w_k",
        [ParameterSpec.PerTask("weights", 1.0, "per-task weight w_k (their sum must not be 0)")],
        s => new AverageMethod(s.PerTask("weights")));

    private readonly float[] _normalised;

    public AverageMethod(IReadOnlyList<double> weights)
    {
        double sum = 0;
        foreach (double w in weights) sum += w;
        if (sum == 0 || !double.IsFinite(sum))
            throw new BadInputException($"average: weights={string.Join(",", weights)} sum to {sum}; the sum of weights must be a non-zero number");
        _normalised = weights.Select(w => (float)(w / sum)).ToArray();
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        var plan = ChunkPlan.For<float>(g.Length);
        ParallelChunks.For(plan, chunk => InputTiles.ForEachTile(g, chunk, (start, n, _, thetas) =>
            TaskArithmetic.WeightedSum(thetas, _normalised, merged.Write<float>(start, n)), withTheta0: false));
    }
}
