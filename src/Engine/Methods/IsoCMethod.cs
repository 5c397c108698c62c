using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Iso-C, isotropic merging in common space (Marczak et al., ICML 2025; official code
/// danielm1405/iso-merging, FusionBench iso_c): per 2-D tensor the sum of the task vectors with its
/// spectrum flattened to the mean singular value, mean(S) U V^T (<see cref="SingularVectorMerge.IsoC"/>);
/// other tensors the mean task vector; theta0 + alpha Delta. The paper tunes alpha on validation data; default 1.0 as FusionBench.
/// </summary>
public sealed class IsoCMethod(double alpha) : MatrixDeltaMethod(alpha)
{
    public static readonly MethodSpec Spec = new("iso_c",
        "Iso-C: theta0 + alpha * mean(S) U V^T of sum_k tau_k = U S V^T, per 2-D tensor (mean task vector elsewhere)",
        [ParameterSpec.Float("alpha", 1.0, "scale of the merged task vector (tuned on validation data in the paper; 1.0 as FusionBench)")],
        s => new IsoCMethod(s.Float("alpha")));

    protected override void Delta(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta) => SingularVectorMerge.IsoC(taus, m, n, delta);
}
