using Google.Protobuf;
using Onnx;

namespace Amalgam.Engine.Autodiff;

/// <summary>A graph input of the gradient model: name, ONNX element type, fixed shape.</summary>
public sealed record GraphInput(string Name, int ElemType, long[] Shape);

/// <summary>
/// The model the builder produced: inputs are the data inputs (fixed shapes), <c>labels</c> (int64
/// [batch]) for the cross-entropy loss, and the parameters; outputs are <c>loss</c> (a scalar) and
/// <c>grad.&lt;parameter&gt;</c> (the parameter's shape) for each parameter.
/// </summary>
public sealed class GradientGraph
{
    public const string LossOutput = "loss";

    internal GradientGraph(ModelProto model, IReadOnlyList<GraphInput> data, GraphInput? labels, IReadOnlyList<GraphInput> parameters, long classes)
    {
        Classes = classes;
        Model = model;
        DataInputs = data;
        Labels = labels;
        Parameters = parameters;
    }

    public ModelProto Model { get; }
    public IReadOnlyList<GraphInput> DataInputs { get; }
    public GraphInput? Labels { get; }

    /// <summary>Number of classes (last axis of the output the loss is computed from).</summary>
    public long Classes { get; }
    public IReadOnlyList<GraphInput> Parameters { get; }

    /// <summary>Element type of the loss and gradients (that of the parameters).</summary>
    public int FloatType => Parameters.Count > 0 ? Parameters[0].ElemType : (int)TensorProto.Types.DataType.Float;

    public static string GradientName(string parameter) => "grad." + parameter;

    public byte[] ToBytes() => Model.ToByteArray();
}
