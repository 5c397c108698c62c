using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Task Arithmetic (Ilharco et al., ICLR 2023): theta = theta0 + lambda * sum_k w_k tau_k with
/// tau_k = theta_k - theta0. Per tensor, one fused pass over the K+1 inputs (the vectorised
/// <see cref="TaskArithmetic.Merge"/> over L2-sized tiles, inputs converted to f32 per tile, chunks in parallel;
/// all-bf16 tasks are read in place by <see cref="Bf16Merge.TaskArithmeticMerge"/>, same arithmetic). Per element the kernel
/// evaluates s = w_0 (theta_1 - theta0); s = s + w_k (theta_k - theta0) in task order;
/// theta0 + lambda s, in f32, so results do not depend on chunking or threads.
/// Holds nothing between tensors.
/// </summary>
public sealed class TaskArithmeticMethod(double lambda, IReadOnlyList<double> weights) : MergeMethod
{
    public static readonly MethodSpec Spec = new("task_arithmetic",
        "theta0 + lambda * sum_k w_k (theta_k - theta0)",
        [
            ParameterSpec.Float("lambda", 0.3, "scale of the summed task vectors"),
            ParameterSpec.PerTask("weights", 1.0, "per-task weight w_k"),
        ],
        s => new TaskArithmeticMethod(s.Float("lambda"), s.PerTask("weights")));

    private readonly float[] _weights = weights.Select(x => (float)x).ToArray();

    public override void Merge(TensorGroup g, Tensor merged)
    {
        float lambda1 = (float)lambda;
        var plan = ChunkPlan.For<float>(g.Length);
        if (g.AllTasksBf16 && g.K > 0)
        {
            // Same per-element arithmetic as TaskArithmetic.Merge, reading the bf16 tasks in place.
            ParallelChunks.For(plan, chunk => InputTiles.ForEachBf16Tile(g, chunk, (start, n, theta0, thetas) =>
                Bf16Merge.TaskArithmeticMerge(theta0, thetas, _weights, lambda1, merged.Write<float>(start, n))));
            return;
        }
        ParallelChunks.For(plan, chunk => InputTiles.ForEachTile(g, chunk, (start, n, theta0, thetas) =>
            TaskArithmetic.Merge(theta0, thetas, _weights, lambda1, merged.Write<float>(start, n))));
    }
}
