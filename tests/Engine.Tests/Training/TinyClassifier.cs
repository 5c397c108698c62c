using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Training;

/// <summary>
/// A two-layer perceptron for 28x28 images as ONNX (opset 17): x [N, 784] -> Gemm(W1 [784, H], b1)
/// -> Relu -> Gemm(W2 [H, 10], b2) -> logits [N, 10], the batch axis symbolic. Weights uniform in
/// ±sqrt(6 / fan_in) (He), biases zero, from a seeded System.Random.
/// </summary>
internal static class TinyClassifier
{
    public const int Pixels = 784, Classes = 10;

    public static OnnxModel Create(int hidden, int seed)
    {
        var rng = new Random(seed);
        var graph = new GraphProto { Name = "mlp" };
        graph.Input.Add(Value("x", ["N", Pixels.ToString()]));
        graph.Output.Add(Value("logits", ["N", Classes.ToString()]));
        graph.Initializer.Add(Floats("fc1.weight", [Pixels, hidden], Uniform(rng, Pixels * hidden, Math.Sqrt(6.0 / Pixels))));
        graph.Initializer.Add(Floats("fc1.bias", [hidden], new float[hidden]));
        graph.Initializer.Add(Floats("fc2.weight", [hidden, Classes], Uniform(rng, hidden * Classes, Math.Sqrt(6.0 / hidden))));
        graph.Initializer.Add(Floats("fc2.bias", [Classes], new float[Classes]));
        graph.Node.Add(Node("Gemm", ["x", "fc1.weight", "fc1.bias"], "h"));
        graph.Node.Add(Node("Relu", ["h"], "a"));
        graph.Node.Add(Node("Gemm", ["a", "fc2.weight", "fc2.bias"], "logits"));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "amalgam-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return new OnnxModel(model, Path.GetTempPath(), "mlp.onnx");
    }

    private static float[] Uniform(Random rng, int n, double bound) =>
        Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * bound)).ToArray();

    private static NodeProto Node(string op, string[] inputs, string output)
    {
        var n = new NodeProto { OpType = op, Name = output + "_" + op };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    private static TensorProto Floats(string name, long[] dims, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()) };
        t.Dims.AddRange(dims);
        return t;
    }

    private static ValueInfoProto Value(string name, string[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (string d in dims)
            shape.Dim.Add(long.TryParse(d, out long v) ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
