using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using static Amalgam.Engine.Tests.Autodiff.TinyGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>What the builder rejects, and that it does so while building (before a runtime sees the
/// graph), naming the op and the node.</summary>
public sealed class BuilderErrorTests
{
    private static GradientGraph Build(TinyGraph g, string output, IReadOnlyList<string>? parameters = null, Dictionary<string, long[]>? shapes = null) =>
        GradientGraphBuilder.Build(new OnnxModel(g.Build(output), ".", "tiny.onnx"),
            new GradientRequest(parameters ?? g.Parameters, shapes ?? g.DataShapes, GradientLoss.HalfSumOfSquares));

    [Test]
    public void AnOpWithoutARuleOnTheGradientPathNamesOpAndNode()
    {
        var g = new TinyGraph(17, DataType.Double);
        string y = g.Node("Abs", [g.Param([3])]);
        var e = Assert.Throws<UnsupportedOpException>(() => Build(g, y))!;
        Assert.That(e.Message, Does.Contain("'Abs'").And.Contain("Abs_").And.StartWith("tiny.onnx: "));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void AnUnknownOpNamesOpAndNode()
    {
        var g = new TinyGraph(17, DataType.Double);
        string y = g.Node("Sin", [g.Param([3])]);
        var e = Assert.Throws<UnsupportedOpException>(() => Build(g, y))!;
        Assert.That(e.Message, Does.Contain("'Sin'").And.Contain("Sin_"));
    }

    [Test]
    public void AnOpOfAnotherDomainIsRejectedEvenWithAKnownName()
    {
        var g = new TinyGraph(17, DataType.Double);
        string y = g.Node("Relu", [g.Param([3])]);
        var model = g.Build(y);
        model.Graph.Node[0].Domain = "com.microsoft";
        model.OpsetImport.Add(new Onnx.OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        Assert.That(() => GradientGraphBuilder.Build(new OnnxModel(model, ".", "tiny.onnx"), new GradientRequest(g.Parameters, g.DataShapes, GradientLoss.HalfSumOfSquares)),
            Throws.TypeOf<UnsupportedOpException>().With.Message.Contain("com.microsoft.Relu"));
    }

    [Test]
    public void OpsOffTheGradientPathNeedNoRule() =>
        GradCheck.Run(g => g.Node("Mul", [g.Param([2, 3]), g.Node("Abs", [g.Data([2, 3])])]));

    [Test]
    public void AStridedSliceOnTheGradientPathIsRejected()
    {
        var g = new TinyGraph(17, DataType.Double);
        string y = g.Node("Slice", [g.Param([6]), g.Ints(0), g.Ints(6), g.Ints(0), g.Ints(2)]);
        Assert.That(() => Build(g, y), Throws.TypeOf<UnsupportedOpException>().With.Message.Contain("step"));
    }

    [Test]
    public void SoftmaxBeforeOpset13OnAnInnerAxisIsRejectedButTheLastAxisWorks()
    {
        var g = new TinyGraph(11, DataType.Double);
        string y = g.Node("Softmax", [g.Param([2, 3, 4])], A("axis", 1L));
        Assert.That(() => Build(g, y), Throws.TypeOf<UnsupportedOpException>().With.Message.Contain("Softmax"));
        GradCheck.Run(t => t.Node("Mul", [t.Node("Softmax", [t.Param([2, 3, 4])], A("axis", 2L)), t.Param([4])]), opset: 11);
    }

    [Test]
    public void BadRequestsAreOneLineErrorsNamingWhatIsWrong()
    {
        var g = new TinyGraph(17, DataType.Double);
        string x = g.Data([2, 3]);
        string y = g.Node("Mul", [x, g.Param([3])]);
        Assert.That(() => Build(g, y, parameters: ["nope"]), Throws.TypeOf<BadInputException>().With.Message.Contain("'nope'"));
        Assert.That(() => Build(g, y, shapes: []), Throws.TypeOf<BadInputException>().With.Message.Contain("'x0'"));
        Assert.That(() => Build(g, y, shapes: new() { ["x0"] = [2, 4] }), Throws.TypeOf<BadInputException>().With.Message.Contain("x0"));
        Assert.That(() => Build(g, y, shapes: new() { ["x0"] = [2, 3], ["other"] = [1] }), Throws.TypeOf<BadInputException>().With.Message.Contain("'other'"));
        var ints = new TinyGraph(17, DataType.Double);
        string c = ints.Ints(1, 2);
        Assert.That(() => Build(ints, ints.Node("Cast", [c], A("to", (long)DataType.Double)), parameters: [c]),
            Throws.TypeOf<BadInputException>().With.Message.Contain("INT64"));
    }

    [Test]
    public void AMalformedNodeIsAOneLineErrorNamingIt()
    {
        var g = new TinyGraph(17, DataType.Double);
        string y = g.Node("Gemm", [g.Param([2, 3, 4]), g.Param([4, 5])]);
        Assert.That(() => Build(g, y), Throws.TypeOf<BadInputException>().With.Message.Contain("Gemm node 'Gemm_"));
    }

    [Test]
    public void LabelsOutsideTheClassesAreRejectedBeforeRunning()
    {
        var g = new TinyGraph(17, DataType.Double);
        string logits = g.Node("MatMul", [g.Data([2, 3]), g.Param([3, 4])]);
        using var session = GradientSession.Create(new OnnxModel(g.Build(logits), ".", "tiny.onnx"),
            new GradientRequest(g.Parameters, g.DataShapes, GradientLoss.CrossEntropy));
        session.Inputs["labels"].Write<long>()[1] = 4;
        Assert.That(() => session.Step(), Throws.TypeOf<BadInputException>().With.Message.Contain("labels: 4"));
    }

    [Test]
    public void OutputInterfaceIsDataLabelsParametersInAndLossGradientsOut()
    {
        var g = new TinyGraph(17, DataType.Double);
        string logits = g.Node("MatMul", [g.Data([2, 3]), g.Param([3, 4])]);
        var graph = GradientGraphBuilder.Build(new OnnxModel(g.Build(logits), ".", "tiny.onnx"),
            new GradientRequest(g.Parameters, g.DataShapes, GradientLoss.CrossEntropy));
        Assert.That(graph.Model.Graph.Input.Select(i => i.Name), Is.EqualTo(new[] { "x0", "labels", "p0" }));
        Assert.That(graph.Model.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "loss", "grad.p0" }));
        Assert.That(graph.Model.Graph.Initializer.Select(i => i.Name), Does.Not.Contain("p0"));
        Assert.That(graph.Labels!.Shape, Is.EqualTo(new long[] { 2 }));
        Assert.That(graph.Model.Graph.Output[1].Type.TensorType.Shape.Dim.Select(d => d.DimValue), Is.EqualTo(new long[] { 3, 4 }));
    }
}
