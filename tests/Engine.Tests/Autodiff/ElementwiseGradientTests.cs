using static Amalgam.Engine.Tests.Autodiff.TinyGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>Element-wise rules against central finite differences in float64, with broadcasting on
/// either side (the broadcast operand's gradient is summed back to its shape).</summary>
public sealed class ElementwiseGradientTests
{
    [TestCase("Add", new long[] { 2, 3, 4 }, new long[] { 3, 1 })]
    [TestCase("Add", new long[] { 4 }, new long[] { 2, 3, 4 })]
    [TestCase("Sub", new long[] { 3, 4 }, new long[] { 2, 3, 4 })]
    [TestCase("Sub", new long[] { 2, 3, 4 }, new long[] { 1, 1, 4 })]
    [TestCase("Mul", new long[] { 2, 1, 4 }, new long[] { 3, 1 })]
    [TestCase("Mul", new long[] { 3 }, new long[] { 3 })]
    [TestCase("Div", new long[] { 2, 3 }, new long[] { 3 })]
    [TestCase("Div", new long[] { 1 }, new long[] { 2, 3 })]
    [TestCase("Pow", new long[] { 2, 3 }, new long[] { 3 })]
    public void BinaryWithBroadcasting(string op, long[] a, long[] b) =>
        GradCheck.Run(g => g.Node(op, [g.Param(a, positive: op == "Pow"), g.Param(b, 0.5, 1.5, positive: op == "Pow")]));

    /// <summary>Both parameters' gradients are the same graph value (one output renamed, the other an Identity of it).</summary>
    [Test]
    public void TwoParametersSharingOneGradientValue() =>
        GradCheck.Run(g => g.Node("Add", [g.Param([2, 3]), g.Param([2, 3])]));

    [TestCase(2.0)]
    [TestCase(3.0)]
    [TestCase(0.5)]
    public void PowByConstantExponent(double e) =>
        GradCheck.Run(g => g.Node("Pow", [g.Param([2, 3], positive: true), g.Scalar(e)]));

    [Test]
    public void SameValueOnBothSidesAccumulates() =>
        GradCheck.Run(g => { var x = g.Param([2, 3]); return g.Node("Add", [g.Node("Mul", [x, x]), g.Node("Tanh", [x])]); });

    [TestCase("Sqrt", true)]
    [TestCase("Tanh", false)]
    [TestCase("Sigmoid", false)]
    [TestCase("Relu", false)]
    [TestCase("Exp", false)]
    [TestCase("Log", true)]
    [TestCase("Neg", false)]
    [TestCase("Identity", false)]
    public void Unary(string op, bool positive) =>
        GradCheck.Run(g => g.Node(op, [g.Param([3, 4], positive: positive)]));

    /// <summary>ONNX Runtime's CPU Erf kernel is float32 only, so this runs in float32 (looser tolerance).</summary>
    [Test]
    public void ErfInFloat32() =>
        GradCheck.Run(g => g.Node("Erf", [g.Param([3, 4], 0.1, 1.2)]), type: DataType.Float);

    [Test]
    public void WhereWithBroadcastConditionAndBranches() =>
        GradCheck.Run(g =>
        {
            string cond = g.Bools([3, 1], true, false, true);
            return g.Node("Where", [cond, g.Param([2, 3, 4]), g.Param([4])]);
        });

    [Test]
    public void CastBetweenFloatTypesPassesTheGradientBack() =>
        GradCheck.Run(g =>
        {
            var x = g.Node("Cast", [g.Param([2, 3])], A("to", (long)DataType.Double));
            var y = g.Node("Mul", [x, x]);
            return g.Node("Cast", [y], A("to", (long)DataType.Float));
        }, type: DataType.Float);

    [TestCase(0L, 0L)]
    [TestCase(1L, 0L)]
    [TestCase(0L, 1L)]
    [TestCase(1L, 1L)]
    public void CumSum(long exclusive, long reverse) =>
        GradCheck.Run(g => g.Node("Mul", [g.Node("CumSum", [g.Param([2, 4]), g.Ints(-1)], A("exclusive", exclusive), A("reverse", reverse)), g.Param([4])]));
}
