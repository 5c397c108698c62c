using static Amalgam.Engine.Tests.Autodiff.TinyGraph;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>Softmax, LogSoftmax, LayerNormalization (op and decomposed form) and reductions against
/// central finite differences in float64.</summary>
public sealed class NormalizationGradientTests
{
    [TestCase("Softmax", 1L)]
    [TestCase("Softmax", -1L)]
    [TestCase("LogSoftmax", -2L)]
    [TestCase("LogSoftmax", 2L)]
    public void SoftmaxFamily(string op, long axis) =>
        GradCheck.Run(g => g.Node("Mul", [g.Node(op, [g.Param([2, 3, 4])], A("axis", axis)), g.Param([4])]));

    [TestCase(-1L, true, true)]
    [TestCase(1L, true, true)]
    [TestCase(-2L, false, true)]
    [TestCase(2L, true, false)]
    public void LayerNormalization(long axis, bool bias, bool fullScale) =>
        GradCheck.Run(g =>
        {
            long[] xs = [2, 3, 4];
            int a = (int)(axis < 0 ? axis + 3 : axis);
            long[] ss = fullScale ? xs[a..] : [xs[^1]];
            string x = g.Param(xs), scale = g.Param(ss);
            string[] inputs = bias ? [x, scale, g.Param(ss)] : [x, scale];
            string y = g.Node("LayerNormalization", inputs, A("axis", axis), A("epsilon", 1e-3f));
            return g.Node("Mul", [y, g.Param(xs)]);   // a random weighting so the loss is not symmetric
        });

    /// <summary>Float32 LayerNormalization: the builder reuses the node's Mean and InvStdDev outputs.</summary>
    [TestCase(-1L)]
    [TestCase(1L)]
    public void LayerNormalizationFloat32WithExposedStatistics(long axis) =>
        GradCheck.Run(g =>
        {
            long[] xs = [2, 3, 4];
            string y = g.Node("LayerNormalization", [g.Param(xs), g.Param(xs[(int)(axis < 0 ? axis + 3 : axis)..]), g.Param(xs[(int)(axis < 0 ? axis + 3 : axis)..])], A("axis", axis));
            return g.Node("Mul", [y, g.Param(xs)]);
        }, type: Onnx.TensorProto.Types.DataType.Float);

    /// <summary>The decomposed pattern torch writes at opset 14: ReduceMean, Sub, Pow, Add, Sqrt, Div, Mul, Add.
    /// Recognised as a whole, or (when the standard deviation is also used elsewhere) node by node.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void DecomposedLayerNormAtOpset14(bool stdUsedElsewhere) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 3, 4]);
            string mean = g.Node("ReduceMean", [x], A("axes", new long[] { -1 }));
            string xc = g.Node("Sub", [x, mean]);
            string variance = g.Node("ReduceMean", [g.Node("Pow", [xc, g.Scalar(2)])], A("axes", new long[] { -1 }));
            string std = g.Node("Sqrt", [g.Node("Add", [variance, g.Scalar(1e-3)])]);
            string norm = g.Node("Div", [xc, std]);
            string y = g.Node("Mul", [g.Node("Add", [g.Node("Mul", [norm, g.Param([4])]), g.Param([4])]), g.Param([2, 3, 4])]);
            return stdUsedElsewhere ? g.Node("Add", [y, std]) : y;
        }, opset: 14);

    [TestCase(17, new long[] { 1 }, 1L)]
    [TestCase(17, new long[] { -1, 0 }, 0L)]
    [TestCase(18, new long[] { -2 }, 0L)]
    [TestCase(18, new long[] { }, 1L)]
    [TestCase(13, null, 0L)]
    public void ReduceMean(int opset, long[]? axes, long keepdims) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 3, 4]);
            if (axes is null) return g.Node("ReduceMean", [x], A("keepdims", keepdims));
            return opset >= 18
                ? g.Node("ReduceMean", [x, g.Ints(axes)], A("keepdims", keepdims))
                : g.Node("ReduceMean", [x], A("axes", axes), A("keepdims", keepdims));
        }, opset: opset);

    [TestCase(13, new long[] { 1 }, 1L)]
    [TestCase(13, new long[] { -1, 0 }, 0L)]
    [TestCase(13, null, 0L)]
    [TestCase(11, new long[] { -2 }, 0L)]
    public void ReduceSum(int opset, long[]? axes, long keepdims) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 3, 4]);
            string y = axes is null ? g.Node("ReduceSum", [x], A("keepdims", keepdims))
                : opset >= 13 ? g.Node("ReduceSum", [x, g.Ints(axes)], A("keepdims", keepdims))
                : g.Node("ReduceSum", [x], A("axes", axes), A("keepdims", keepdims));
            return g.Node("Mul", [y, g.Param([1])]);
        }, opset: opset);
}
