using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Task Arithmetic (Ilharco et al., ICLR 2023): theta = theta0 + lambda * sum_k w_k tau_k with
/// tau_k = theta_k - theta0. Per tensor, one fused pass over the K+1 inputs.
/// </summary>
public sealed class TaskArithmetic(double lambda, IReadOnlyList<double> weights) : MergeMethod
{
    public static readonly MethodSpec Spec = new("task_arithmetic",
        "theta0 + lambda * sum_k w_k (theta_k - theta0)",
        [
            ParameterSpec.Float("lambda", 0.3, "scale of the summed task vectors"),
            ParameterSpec.PerTask("weights", 1.0, "per-task weight w_k"),
        ],
        s => new TaskArithmetic(s.Float("lambda"), s.PerTask("weights")));

    public override void Merge(TensorGroup g, Tensor merged)
    {
        // Coefficients in f32 as the kernel uses them: theta0 * (1 - lambda*sum w) + sum_k (lambda w_k) theta_k
        // would reorder the rounding; keep the paper's form, tau_k accumulated in k order.
        float lambda1 = (float)lambda;
        float[] w = weights.Select(x => (float)x).ToArray();
        var plan = ChunkPlan.For<float>(g.Length);
        ParallelChunks.For(plan, chunk =>
        {
            int n = (int)chunk.Length;
            ReadOnlySpan<float> theta0 = g.Theta0.Read<float>(chunk.Start, n);
            Span<float> output = merged.Write<float>(chunk.Start, n);
            output.Clear();
            for (int k = 0; k < g.K; k++)
            {
                ReadOnlySpan<float> thetaK = g.Thetas[k].Read<float>(chunk.Start, n);
                for (int i = 0; i < n; i++) output[i] += w[k] * (thetaK[i] - theta0[i]);
            }
            for (int i = 0; i < n; i++) output[i] = theta0[i] + lambda1 * output[i];
        });
    }
}
