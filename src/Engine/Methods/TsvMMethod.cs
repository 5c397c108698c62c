using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Methods;

/// <summary>
/// TSV-M, Task Singular Vectors Merge (Gargiulo et al., CVPR 2025; official code
/// AntoAndGar/task_singular_vectors, FusionBench TaskSingularVectorMerging): per 2-D tensor the
/// int(r / T) leading singular triplets of every task vector, their left and right singular vectors
/// each orthogonalised together (<see cref="SingularVectorMerge.Tsv"/>); other tensors the mean task
/// vector; theta0 + alpha Delta. The paper tunes alpha on validation data (0.1..3.0); the default 1.0 is FusionBench's.
/// </summary>
public sealed class TsvMMethod(double alpha) : MatrixDeltaMethod(alpha)
{
    public static readonly MethodSpec Spec = new("tsv_m",
        "TSV-M: theta0 + alpha * polar([U_1k..U_Tk]) diag(s) polar([V_1k..V_Tk]^T), k = r / T, per 2-D tensor (mean task vector elsewhere)",
        [ParameterSpec.Float("alpha", 1.0, "scale of the merged task vector (tuned on validation data in the paper; 1.0 as FusionBench)")],
        s => new TsvMMethod(s.Float("alpha")));

    protected override void Delta(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta) => SingularVectorMerge.Tsv(taus, m, n, delta);
}
