using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>Small ONNX models built in the test, so their exact outputs are known from a formula.</summary>
internal static class TinyOnnxModels
{
    /// <summary>
    /// Inputs x: f32 [batch, n] (batch symbolic). Outputs y = x + w (w an initializer [n]) and z = x * x.
    /// </summary>
    public static byte[] AddMul(float[] w)
    {
        int n = w.Length;
        var graph = new GraphProto { Name = "add_mul" };
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "w" }, Output = { "y" }, Name = "add" });
        graph.Node.Add(new NodeProto { OpType = "Mul", Input = { "x", "x" }, Output = { "z" }, Name = "mul" });
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, Dims = { n } };
        var bytes = new byte[n * sizeof(float)];
        Buffer.BlockCopy(w, 0, bytes, 0, bytes.Length);
        weight.RawData = ByteString.CopyFrom(bytes);
        graph.Initializer.Add(weight);
        graph.Input.Add(FloatInfo("x", ("batch", 0), (null, n)));
        graph.Output.Add(FloatInfo("y", ("batch", 0), (null, n)));
        graph.Output.Add(FloatInfo("z", ("batch", 0), (null, n)));
        return Model(graph);
    }

    /// <summary>
    /// Input x: f32 [n]. Output y = (x + w)^2 through an intermediate t = x + w of n floats that ORT
    /// allocates in every run (w an initializer [n]); run it without graph optimisation so t stays.
    /// </summary>
    public static byte[] SquareOfSum(float[] w)
    {
        int n = w.Length;
        var graph = new GraphProto { Name = "square_of_sum" };
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "w" }, Output = { "t" }, Name = "add" });
        graph.Node.Add(new NodeProto { OpType = "Mul", Input = { "t", "t" }, Output = { "y" }, Name = "square" });
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, Dims = { n } };
        var bytes = new byte[n * sizeof(float)];
        Buffer.BlockCopy(w, 0, bytes, 0, bytes.Length);
        weight.RawData = ByteString.CopyFrom(bytes);
        graph.Initializer.Add(weight);
        graph.Input.Add(FloatInfo("x", (null, n)));
        graph.Output.Add(FloatInfo("y", (null, n)));
        return Model(graph);
    }

    /// <summary>Input ids: i64 [k]; output c = Cast(ids, to=float) — exercises a non-float input.</summary>
    public static byte[] CastToFloat(int k)
    {
        var graph = new GraphProto { Name = "cast" };
        var cast = new NodeProto { OpType = "Cast", Input = { "ids" }, Output = { "c" }, Name = "cast" };
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
        graph.Node.Add(cast);
        graph.Input.Add(Info("ids", TensorProto.Types.DataType.Int64, (null, k)));
        graph.Output.Add(Info("c", TensorProto.Types.DataType.Float, (null, k)));
        return Model(graph);
    }

    private static byte[] Model(GraphProto graph)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "amalgam-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    private static ValueInfoProto FloatInfo(string name, params (string? Param, long Value)[] dims) =>
        Info(name, TensorProto.Types.DataType.Float, dims);

    private static ValueInfoProto Info(string name, TensorProto.Types.DataType type, params (string? Param, long Value)[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var (param, value) in dims)
            shape.Dim.Add(param is null ? new TensorShapeProto.Types.Dimension { DimValue = value }
                                        : new TensorShapeProto.Types.Dimension { DimParam = param });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
