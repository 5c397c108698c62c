using static Amalgam.Engine.Tests.Autodiff.TinyGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>MatMul, Gemm and Conv rules against central finite differences.</summary>
public sealed class LinearGradientTests
{
    [TestCase(new long[] { 2, 3, 4 }, new long[] { 4, 5 })]
    [TestCase(new long[] { 3, 4 }, new long[] { 2, 4, 5 })]
    [TestCase(new long[] { 2, 1, 3, 4 }, new long[] { 3, 4, 2 })]
    [TestCase(new long[] { 2, 2, 3, 4 }, new long[] { 2, 2, 4, 3 })]
    [TestCase(new long[] { 4 }, new long[] { 4, 5 })]
    [TestCase(new long[] { 2, 3, 4 }, new long[] { 4 })]
    [TestCase(new long[] { 3, 4 }, new long[] { 4, 2 })]
    public void MatMul(long[] a, long[] b) =>
        GradCheck.Run(g => g.Node("MatMul", [g.Param(a), g.Param(b)]));

    [TestCase(0L, 0L, 1f, 1f, new long[] { 5 })]
    [TestCase(1L, 0L, 0.5f, 2f, new long[] { 3, 1 })]
    [TestCase(0L, 1L, 1.5f, 1f, new long[] { 3, 5 })]
    [TestCase(1L, 1L, 1f, 0.25f, new long[] { })]
    [TestCase(1L, 1L, 2f, 1f, null)]
    public void Gemm(long transA, long transB, float alpha, float beta, long[]? c) =>
        GradCheck.Run(g =>
        {
            string a = g.Param(transA != 0 ? [4, 3] : [3, 4]), b = g.Param(transB != 0 ? [5, 4] : [4, 5]);
            string[] inputs = c is null ? [a, b] : [a, b, g.Param(c)];
            return g.Node("Gemm", inputs, A("transA", transA), A("transB", transB), A("alpha", alpha), A("beta", beta));
        });

    /// <summary>ONNX Runtime's CPU Conv and ConvTranspose are float32 only; the loss is quadratic in each
    /// operand, so central differences are exact up to float32 rounding.</summary>
    [TestCase(new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1, 1, 1 }, new long[] { 1, 1 })]
    [TestCase(new long[] { 3, 3 }, new long[] { 2, 2 }, new long[] { 1, 0, 1, 1 }, new long[] { 1, 1 })]
    [TestCase(new long[] { 2, 3 }, new long[] { 1, 2 }, new long[] { 0, 0, 0, 0 }, new long[] { 2, 1 })]
    [TestCase(new long[] { 3, 3 }, new long[] { 3, 3 }, new long[] { 0, 0, 0, 0 }, new long[] { 1, 1 })]
    public void Conv2dInputWeightAndBias(long[] kernel, long[] strides, long[] pads, long[] dilations) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 3, 7, 6]), w = g.Param([4, 3, kernel[0], kernel[1]]), b = g.Param([4]);
            return g.Node("Conv", [x, w, b], A("strides", strides), A("pads", pads), A("dilations", dilations));
        }, type: DataType.Float);

    [Test]
    public void Conv1dWithoutBias() =>
        GradCheck.Run(g => g.Node("Conv", [g.Param([2, 3, 9]), g.Param([2, 3, 3])], A("strides", new long[] { 2 }), A("pads", 1L, 0L)), type: DataType.Float);
}
