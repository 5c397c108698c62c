using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.LayerInputs;
using Amalgam.Kernels;
using Amalgam.Kernels.Blas;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Merging;

/// <summary>
/// What TSV-M, Iso-C, Iso-CTS and WUDI share (their official code and FusionBench): per shared tensor, a
/// 2-D tensor gets the method's Delta from the K task vectors (<see cref="Delta"/>), every other
/// tensor (1-D norms and biases, 4-D convolutions) the running mean of the task vectors; then
/// theta = theta0 + alpha Delta for every tensor. One tensor's task vectors in memory at a time
/// (streams per tensor); OpenBLAS pinned to one thread so the SVDs do not depend on --threads.
/// <para>
/// Orientation: the papers' code sees torch layout (d_out x d_in). Amalgam reads a tensor as stored;
/// for ONNX models, a weight that a MatMul multiplies from the right (x W, stored d_in x d_out) is
/// transposed to torch layout before <see cref="Delta"/> and back after, when the method is not
/// transpose-equivariant (<see cref="NeedsTorchLayout"/>: Iso-CTS). Safetensors checkpoints are taken
/// as torch layout. Packed q/k/v (open_clip's in_proj_weight) and separate q_proj/k_proj/v_proj give
/// different results; Amalgam merges the tensors the checkpoint has, as they are.
/// </para>
/// </summary>
public abstract class MatrixDeltaMethod(double alpha) : MergeMethod
{
    private HashSet<string> _storedDInByDOut = new(StringComparer.Ordinal);
    private long _matrices, _means;

    /// <summary>Whether <see cref="Delta"/> must see rows = outputs (false: transpose-equivariant).</summary>
    protected virtual bool NeedsTorchLayout => false;

    /// <summary>Delta of one m x n matrix (torch layout when <see cref="NeedsTorchLayout"/>) from the task vectors (row-major).</summary>
    protected abstract void Delta(IReadOnlyList<float[]> taus, int m, int n, Span<float> delta);

    public override void Begin(MergeProblem problem)
    {
        if (!NeedsTorchLayout || problem.Format != CheckpointFormat.Onnx) return;
        _storedDInByDOut = FeatureGraph.Of(problem).Linears.Where(l => !l.StoredTransposed).Select(l => l.Weight).ToHashSet(StringComparer.Ordinal);
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        var taus = TaskVectors.OfGroup(g);
        int length = checked((int)g.Length);
        var delta = new float[length];
        if (g.Shape.Length == 2 && g.K > 0)
        {
            int rows = checked((int)g.Shape[0]), cols = checked((int)g.Shape[1]);
            using var pin = BlasThreadPin.One();
            if (_storedDInByDOut.Contains(g.Name))
            {
                var torch = taus.Select(t => Transposed(t, rows, cols)).ToArray();
                var d = new float[length];
                Delta(torch, cols, rows, d);
                Transposed(d, cols, rows).CopyTo(delta, 0);
            }
            else Delta(taus, rows, cols, delta);
            _matrices++;
        }
        else
        {
            SingularVectorMerge.RunningMean(taus, delta);
            _means++;
        }
        var theta0 = TensorGroup.Float32Tile(g.Theta0, 0, length, new float[length]);
        TaskArithmetic.AddScaled(theta0, (float)alpha, delta, merged.Write<float>(0, length));
    }

    public override void WriteReport(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteNumber("matrices", _matrices);
        writer.WriteNumber("mean_tensors", _means);
    }

    private static float[] Transposed(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[(long)j * rows + i] = a[(long)i * cols + j];
        return t;
    }
}
