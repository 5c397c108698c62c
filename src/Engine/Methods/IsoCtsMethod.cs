using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Iso-CTS, isotropic merging in common and task-specific subspaces (Marczak et al., ICML 2025;
/// official code danielm1405/iso-merging, FusionBench iso_cts): per 2-D tensor the leading k_c
/// directions of the summed task vector plus s_t directions per task of tau_k with the common output
/// subspace projected out, orthogonalised, spectrum flattened (<see cref="SingularVectorMerge.IsoCts"/>);
/// other tensors the mean task vector; theta0 + alpha Delta. Not transpose-equivariant: it runs on torch
/// layout (rows = outputs), so ONNX MatMul weights are transposed for it. Defaults: common_space_fraction 0.8, alpha 1.0.
/// </summary>
public sealed class IsoCtsMethod(double alpha, double commonSpaceFraction) : MatrixDeltaMethod(alpha)
{
    public static readonly MethodSpec Spec = new("iso_cts",
        "Iso-CTS: theta0 + alpha * mean(s) polar(U) polar(V^T) over k_c common + s_t task-specific directions, per 2-D tensor (mean task vector elsewhere)",
        [
            ParameterSpec.Float("alpha", 1.0, "scale of the merged task vector (tuned on validation data in the paper; 1.0 as FusionBench)"),
            ParameterSpec.Float("common_space_fraction", 0.8, "fraction of the r directions kept from the summed task vector", min: 0),
        ],
        s => new IsoCtsMethod(s.Float("alpha"), s.Float("common_space_fraction")));

    protected override bool NeedsTorchLayout => true;

    protected override void Delta(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta) =>
        SingularVectorMerge.IsoCts(taus, m, n, commonSpaceFraction, delta);
}
