using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>Builds small ONNX graphs for the gradient tests: random parameters (initializers), int64
/// constants, data inputs, and nodes, at a chosen opset and float type.</summary>
internal sealed class TinyGraph(int opset, DataType floatType, int seed = 1)
{
    private readonly GraphProto _graph = new() { Name = "tiny" };
    private readonly Random _rng = new(seed);
    private int _counter;

    public int Opset { get; } = opset;
    public DataType FloatType { get; } = floatType;
    public List<string> Parameters { get; } = [];
    public Dictionary<string, long[]> DataShapes { get; } = [];
    public Dictionary<string, double[]> DataValues { get; } = [];

    /// <summary>A parameter with values uniform in ±[min, max] (random sign), or in [min, max] if positive.</summary>
    public string Param(long[] shape, double min = 0.2, double max = 1.5, bool positive = false)
    {
        string name = $"p{Parameters.Count}";
        Parameters.Add(name);
        _graph.Initializer.Add(FloatTensor(name, shape, RandomValues(shape, min, max, positive)));
        return name;
    }

    /// <summary>A float data input (not differentiated) with random values.</summary>
    public string Data(long[] shape)
    {
        string name = $"x{DataShapes.Count}";
        DataShapes[name] = shape;
        DataValues[name] = RandomValues(shape, 0.2, 1.5, false);
        _graph.Input.Add(new ValueInfoProto { Name = name, Type = TensorType((int)FloatType, shape) });
        return name;
    }

    public double[] RandomValues(long[] shape, double min, double max, bool positive)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double m = min + (max - min) * _rng.NextDouble();
            v[i] = positive || _rng.Next(2) == 0 ? m : -m;
        }
        return v;
    }

    public string Ints(params long[] values) => Tensor(DataType.Int64, [values.Length], values.SelectMany(BitConverter.GetBytes).ToArray());

    public string Tensor(DataType type, long[] shape, byte[] raw)
    {
        string name = $"c{_counter++}";
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(shape);
        _graph.Initializer.Add(t);
        return name;
    }

    public string Bools(long[] shape, params bool[] values) => Tensor(DataType.Bool, shape, values.Select(b => b ? (byte)1 : (byte)0).ToArray());

    public string Scalar(double v) => AddTensor(FloatTensor($"c{_counter++}", [], [v]));

    private string AddTensor(TensorProto t)
    {
        _graph.Initializer.Add(t);
        return t.Name;
    }

    public TensorProto FloatTensor(string name, long[] shape, double[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)FloatType };
        t.Dims.AddRange(shape);
        byte[] raw = FloatType == DataType.Double
            ? values.SelectMany(BitConverter.GetBytes).ToArray()
            : values.SelectMany(v => BitConverter.GetBytes((float)v)).ToArray();
        t.RawData = ByteString.CopyFrom(raw);
        return t;
    }

    public string Node(string op, string[] inputs, params AttributeProto[] attrs) => NodeN(op, 1, inputs, attrs)[0];

    public string[] NodeN(string op, int outputs, string[] inputs, params AttributeProto[] attrs)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{_counter++}" };
        node.Input.AddRange(inputs);
        for (int i = 0; i < outputs; i++) node.Output.Add($"v{_counter++}");
        node.Attribute.AddRange(attrs);
        _graph.Node.Add(node);
        return node.Output.ToArray();
    }

    public static AttributeProto A(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    public static AttributeProto A(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    public static AttributeProto A(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    /// <summary>The model with <paramref name="output"/> as its only output (shape left to inference).</summary>
    public ModelProto Build(string output)
    {
        var graph = _graph.Clone();
        graph.Output.Add(new ValueInfoProto { Name = output, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)FloatType } } });
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "amalgam-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model;
    }

    private static TypeProto TensorType(int elemType, long[] shape)
    {
        var s = new TensorShapeProto();
        foreach (long d in shape) s.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = s } };
    }
}
