using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// Writes an ONNX graph node by node (opset 17): float32 initializers, int64 constants, nodes with
/// generated output names. Small on purpose: just what <see cref="VitTowerGraph"/> needs.
/// </summary>
internal sealed class OnnxGraphWriter
{
    public const int Opset = 17;
    private readonly GraphProto _graph = new();
    private int _counter;

    public OnnxGraphWriter(string name) => _graph.Name = name;

    /// <summary>A float32 graph input with a symbolic first axis "N".</summary>
    public string Input(string name, params long[] dimsAfterBatch)
    {
        _graph.Input.Add(ValueInfo(name, dimsAfterBatch));
        return name;
    }

    public void Output(string name, params long[] dimsAfterBatch) => _graph.Output.Add(ValueInfo(name, dimsAfterBatch));

    /// <summary>A float32 initializer (a parameter).</summary>
    public string Parameter(string name, long[] shape, float[] values)
    {
        if (values.Length != shape.Aggregate(1L, (a, b) => a * b)) throw new ArgumentException($"parameter '{name}': {values.Length} values for shape [{string.Join(", ", shape)}]");
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.AddRange(shape);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>A float32 scalar Constant node (not an initializer, so merging never sees it).</summary>
    public string Scalar(float value) =>
        Constant(new TensorProto { DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) });

    /// <summary>An int64 vector Constant node, e.g. a Reshape target.</summary>
    public string Ints(params long[] values)
    {
        var t = new TensorProto { DataType = (int)DataType.Int64, RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()) };
        t.Dims.Add(values.Length);
        return Constant(t);
    }

    /// <summary>An int64 scalar Constant node (a Gather index).</summary>
    public string IntScalar(long value) =>
        Constant(new TensorProto { DataType = (int)DataType.Int64, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) });

    private string Constant(TensorProto value)
    {
        value.Name = $"const_{_counter}";
        return Node("Constant", [], "const", null, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = value });
    }

    /// <summary>Adds a node; its single output is named <paramref name="output"/> or generated from <paramref name="hint"/>.</summary>
    public string Node(string op, string[] inputs, string hint, string? output = null, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{hint}/{op}_{_counter}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output ?? $"{hint}/{op}_{_counter}");
        _counter++;
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return node.Output[0];
    }

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    public static AttributeProto IntList(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    public ModelProto ToModel()
    {
        var model = new ModelProto { IrVersion = 8, Graph = _graph.Clone(), ProducerName = "amalgam-zoo", ProducerVersion = "1" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, long[] dimsAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in dimsAfterBatch) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
