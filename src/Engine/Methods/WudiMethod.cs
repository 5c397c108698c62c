using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// WUDI-Merging (Cheng et al., ICML 2025), data-free: per 2-D tensor, Adam on the interference loss
/// sum_i ||(tau_m - tau_i) tau_i^T||^2 / ||tau_i||^2 from tau_m = sum_i tau_i (<see cref="WudiMerge"/>;
/// `steps` 300 and `lr` 1e-5 as the official code); other tensors the mean task vector; theta0 + tau_m,
/// no scaling (alpha fixed at 1, as the official apply_to). Tensor choice follows FusionBench (every
/// 2-D tensor; the official open_clip code optimises only the attention and MLP weights and leaves
/// every other tensor at theta0). Torch layout: ONNX MatMul weights are transposed for it.
/// A step costs 2 m n^2 flops per m x n tensor whatever K (4 K m^2 n for a matrix wider than 2K times its height),
/// rows in parallel blocks (<see cref="WudiMerge"/>).
/// </summary>
public sealed class WudiMethod(int steps, double learningRate) : MatrixDeltaMethod(alpha: 1.0)
{
    public static readonly MethodSpec Spec = new("wudi",
        "WUDI: theta0 + argmin by Adam of sum_k ||(tau_m - tau_k) tau_k^T||^2 / ||tau_k||^2 from sum_k tau_k, per 2-D tensor (mean task vector elsewhere)",
        [
            ParameterSpec.Int("steps", 300, "Adam steps per tensor (official 300; FusionBench's config 400)", min: 0),
            ParameterSpec.Float("lr", 1e-5, "Adam learning rate", min: 0),
        ],
        s => new WudiMethod((int)s.Int("steps"), s.Float("lr")));

    private double _loss;

    protected override bool NeedsTorchLayout => true;

    protected override void Delta(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta) =>
        _loss += WudiMerge.Optimise(taus, m, n, steps, (float)learningRate, delta);

    public override void WriteReport(System.Text.Json.Utf8JsonWriter writer)
    {
        base.WriteReport(writer);
        writer.WriteNumber("final_loss", _loss);
    }
}
