using static Amalgam.Engine.Tests.Autodiff.TinyGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>Rules of ops that move or select elements, and shape subgraphs evaluated while building,
/// against central finite differences in float64.</summary>
public sealed class ShapeGradientTests
{
    /// <summary>Every case multiplies by a random tensor afterwards so the gradient is not uniform.</summary>
    private static string Weighted(TinyGraph g, string y, long[] shape) => g.Node("Mul", [y, g.Param(shape)]);

    [Test]
    public void ReshapeWithZeroAndMinusOne() =>
        GradCheck.Run(g => Weighted(g, g.Node("Reshape", [g.Param([2, 3, 4]), g.Ints(0, -1, 2)]), [2, 6, 2]));

    [TestCase(new long[] { 2, 0, 1 })]
    [TestCase(null)]
    public void Transpose(long[]? perm) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 3, 4]);
            string y = perm is null ? g.Node("Transpose", [x]) : g.Node("Transpose", [x], A("perm", perm));
            return Weighted(g, y, perm is null ? [4, 3, 2] : [4, 2, 3]);
        });

    [TestCase(2L, new long[] { 6, 4 })]
    [TestCase(-1L, new long[] { 6, 4 })]
    [TestCase(0L, new long[] { 1, 24 })]
    public void Flatten(long axis, long[] outShape) =>
        GradCheck.Run(g => Weighted(g, g.Node("Flatten", [g.Param([2, 3, 4])], A("axis", axis)), outShape));

    [Test]
    public void UnsqueezeThenSqueezeWithNegativeAxesAsInputs() =>
        GradCheck.Run(g =>
        {
            string u = g.Node("Unsqueeze", [g.Param([3, 4]), g.Ints(-1, 0)]);           // [1,3,4,1]
            return Weighted(g, g.Node("Squeeze", [g.Node("Mul", [u, g.Param([1, 3, 1, 1])]), g.Ints(-1)]), [1, 3, 4]);
        }, opset: 13);

    [Test]
    public void UnsqueezeAndSqueezeWithAxesAttributesBeforeOpset13() =>
        GradCheck.Run(g =>
        {
            string u = g.Node("Unsqueeze", [g.Param([3, 4])], A("axes", new long[] { 1 }));
            return Weighted(g, g.Node("Squeeze", [g.Node("Mul", [u, g.Param([3, 1, 1])])], A("axes", new long[] { 1 })), [3, 4]);
        }, opset: 11);

    [TestCase(-1L)]
    [TestCase(1L)]
    public void ConcatOfThreeWithARepeatedInput(long axis) =>
        GradCheck.Run(g =>
        {
            string a = g.Param([2, 3, 2]);
            string y = g.Node("Concat", axis == 1 ? [a, g.Param([2, 1, 2]), a] : [a, g.Param([2, 3, 1]), a], A("axis", axis));
            return Weighted(g, y, axis == 1 ? [2, 7, 2] : [2, 3, 5]);
        });

    [TestCase(11)]
    [TestCase(13)]
    [TestCase(18)]
    public void SplitWithAnUnusedOutput(int opset) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 6]);
            string[] parts = opset >= 18 ? g.NodeN("Split", 3, [x], A("axis", -1L), A("num_outputs", 3L))
                : opset >= 13 ? g.NodeN("Split", 3, [x, g.Ints(1, 2, 3)], A("axis", 1L))
                : g.NodeN("Split", 3, [x], A("axis", 1L), A("split", 1L, 2L, 3L));
            return g.Node("Concat", [g.Node("Mul", [parts[2], g.Param([1])]), parts[0]], A("axis", 1L));
        }, opset: opset);

    [Test]
    public void SliceWithNegativeStartsAxesAndInt64MaxEnd() =>
        GradCheck.Run(g =>
        {
            string y = g.Node("Slice", [g.Param([3, 5, 4]), g.Ints(1, -3), g.Ints(long.MaxValue, -1), g.Ints(0, -2)]);
            return Weighted(g, y, [2, 2, 4]);
        });

    /// <summary>Slices that tile a value (packed q/k/v) give one Concat; overlapping or partial ones are padded and summed.</summary>
    [TestCase(new long[] { 0, 2, 3 }, new long[] { 2, 3, 6 })]
    [TestCase(new long[] { 0, 1, 3 }, new long[] { 2, 4, 6 })]
    [TestCase(new long[] { 1, 2, 4 }, new long[] { 2, 3, 5 })]
    public void SeveralSlicesOfOneValue(long[] starts, long[] ends) =>
        GradCheck.Run(g =>
        {
            string x = g.Param([2, 6]);
            var parts = starts.Select((s, i) => g.Node("Mul", [g.Node("Slice", [x, g.Ints(s), g.Ints(ends[i]), g.Ints(-1)]), g.Param([ends[i] - s])])).ToArray();
            return g.Node("Concat", parts, A("axis", 1L));
        });

    /// <summary>Opset 17: ScatterElements with reduction add; opset 14: one-hot product.</summary>
    [TestCase(17)]
    [TestCase(14)]
    public void GatherRowsWithRepeatsAndANegativeIndex(int opset) =>
        GradCheck.Run(g =>
        {
            string idx = g.Tensor(DataType.Int64, [2, 3], new long[] { 0, 3, 0, -1, 2, 3 }.SelectMany(BitConverter.GetBytes).ToArray());
            return Weighted(g, g.Node("Gather", [g.Param([5, 4]), idx]), [2, 3, 4]);
        }, opset: opset);

    [TestCase(1L, 17)]
    [TestCase(-1L, 17)]
    [TestCase(1L, 14)]
    [TestCase(-1L, 14)]
    public void GatherScalarIndexOnAnInnerAxis(long axis, int opset) =>
        GradCheck.Run(g =>
        {
            string idx = g.Tensor(DataType.Int64, [], BitConverter.GetBytes(1L));
            return Weighted(g, g.Node("Gather", [g.Param([2, 3, 3]), idx], A("axis", axis)), [2, 3]);
        }, opset: opset);

    [TestCase(17)]
    [TestCase(14)]
    public void GatherInt32IndicesOnAxis1WithRepeats(int opset) =>
        GradCheck.Run(g =>
        {
            string idx = g.Tensor(DataType.Int32, [4], new[] { 2, 0, 2, -2 }.SelectMany(BitConverter.GetBytes).ToArray());
            return Weighted(g, g.Node("Gather", [g.Param([2, 3, 2]), idx], A("axis", 1L)), [2, 4, 2]);
        }, opset: opset);

    [Test]
    public void Expand() =>
        GradCheck.Run(g => Weighted(g, g.Node("Expand", [g.Param([3, 1]), g.Ints(2, 1, 4)]), [2, 3, 4]));

    /// <summary>torch's export of x.reshape(b, -1) and of expand(n, -1, -1): Shape, Gather, Unsqueeze,
    /// Concat, ConstantOfShape, Equal, Where, Mul computing the target from a data input's shape.</summary>
    [Test]
    public void ShapeSubgraphsAreEvaluatedAndNotDifferentiated() =>
        GradCheck.Run(g =>
        {
            string data = g.Data([2, 3]);
            string batch = g.Node("Gather", [g.Node("Shape", [data]), g.Tensor(DataType.Int64, [], BitConverter.GetBytes(0L))], A("axis", 0L));
            string target = g.Node("Concat", [g.Node("Unsqueeze", [batch, g.Ints(0)]), g.Ints(-1), g.Ints(1)], A("axis", 0L));   // [2, -1, 1]
            string ones = g.Node("ConstantOfShape", [g.Ints(3)], new Onnx.AttributeProto
            {
                Name = "value", Type = Onnx.AttributeProto.Types.AttributeType.Tensor,
                T = new Onnx.TensorProto { DataType = (int)DataType.Int64, Dims = { 1 }, Int64Data = { 1 } },
            });
            string isMinus = g.Node("Equal", [target, g.Node("Mul", [ones, g.Ints(-1)])]);
            string fixedTarget = g.Node("Where", [isMinus, ones, target]);                                           // [2, 1, 1]
            string cls = g.Node("Expand", [g.Param([1, 1, 1]), fixedTarget]);
            string x = g.Node("Reshape", [g.Node("Mul", [data, g.Param([3])]), target]);                             // [2, 3, 1]
            return g.Node("Concat", [cls, x], A("axis", 1L));
        });
}
