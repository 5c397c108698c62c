using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// DARE + Task Arithmetic: each task vector goes through <see cref="DareDrop"/> (p 0.5,
/// rescale inverse|l1|none, mask keyed by --seed, task, tensor name, element), then
/// theta = theta0 + lambda * sum_k w_k tau_k (lambda 0.3). Per tensor, streamed in chunks:
/// holds K + 1 tiles of TensorGroup.TileElements f32 per worker thread (rescale=l1 reads each task once more per tensor).
/// </summary>
public sealed class DareLinearMethod(DareDrop drop, double lambda, IReadOnlyList<double> weights) : MergeMethod
{
    public static readonly MethodSpec Spec = new("dare_linear",
        "DARE (drop p, rescale) on each task vector, then task_arithmetic",
        [
            .. DareDrop.Parameters,
            ParameterSpec.Float("lambda", 0.3, "scale of the summed task vectors"),
            ParameterSpec.PerTask("weights", 1.0, "per-task weight w_k"),
        ],
        s => new DareLinearMethod(DareDrop.From(s), s.Float("lambda"), s.PerTask("weights")));

    private readonly float[] _weights = weights.Select(x => (float)x).ToArray();

    public override void Merge(TensorGroup g, Tensor merged)
    {
        float lambda1 = (float)lambda;
        float[] scales = drop.Scales(g);
        ParallelChunks.For(ChunkPlan.For<float>(g.Length), chunk =>
            TaskVectors.ForEachTile(g, chunk, drop, scales, (start, n, theta0, taus) =>
                TaskArithmetic.MergeDeltas(theta0, new TileSet(taus, g.K, n), _weights, lambda1, merged.Write<float>(start, n))));
    }
}
