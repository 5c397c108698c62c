using Amalgam.Engine.Data.Npy;
using Amalgam.Kernels;
using Google.Protobuf;
using Onnx;

namespace Amalgam.Engine.Tests.Methods.Cat;

/// <summary>
/// A tiny network with every op kind the feature collector knows, for CAT / RegMean tests:
/// x [N, 3, 6] + pos [3, 6] -> layer norm (g1, b1; LayerNormalization at opset 17, torch's
/// decomposed pattern at opset 14) -> MatMul W1 [6, 5] + c1 -> Reshape [-1, 5] -> Gemm transB=1
/// W2 [4, 5] + c2 -> MatMul with Transpose(W3 [3, 4]) -> y [N * 3, 3].
/// Its f64 forward pass (<see cref="Forward"/>) is written out by hand, independent of ONNX Runtime.
/// </summary>
public static class CatNet
{
    public const int Tokens = 3, Width = 6;
    public const double Epsilon = 1e-5;

    /// <summary>Shared float parameters and their shapes (the scalars "two"/"eps" are fixed constants, not perturbed).</summary>
    public static readonly (string Name, long[] Shape)[] Params =
    [
        ("pos", [3, 6]), ("g1", [6]), ("b1", [6]), ("W1", [6, 5]), ("c1", [5]), ("W2", [4, 5]), ("c2", [4]), ("W3", [3, 4]),
    ];

    public static Dictionary<string, double[]> RandomParams(Random rng, Dictionary<string, double[]>? around = null, double noise = 0.3)
    {
        var p = new Dictionary<string, double[]>();
        foreach (var (name, shape) in Params)
        {
            int n = (int)shape.Aggregate(1L, (a, b) => a * b);
            p[name] = Enumerable.Range(0, n).Select(i => around is null
                ? (name == "g1" ? 1 + 0.3 * (rng.NextDouble() * 2 - 1) : rng.NextDouble() * 2 - 1)
                : around[name][i] + noise * (rng.NextDouble() * 2 - 1)).ToArray();
        }
        return p;
    }

    public static void Save(string path, int opset, Dictionary<string, double[]> p)
    {
        var g = new GraphProto { Name = "catnet" };
        foreach (var (name, shape) in Params) g.Initializer.Add(Floats(name, shape, p[name]));
        g.Initializer.Add(Floats("two", [], [2.0]));
        g.Initializer.Add(Floats("eps", [], [Epsilon]));
        var shapeConst = new TensorProto { Name = "shape", DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(new long[] { -1, 5 }.SelectMany(BitConverter.GetBytes).ToArray()) };
        shapeConst.Dims.Add(2);
        g.Initializer.Add(shapeConst);
        g.Input.Add(Value("x", [-1, Tokens, Width]));
        g.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        Node(g, "Add", ["x", "pos"], "xp");
        if (opset >= 17)
        {
            Node(g, "LayerNormalization", ["xp", "g1", "b1"], "a", Attr("axis", -1), AttrF("epsilon", (float)Epsilon));
        }
        else
        {
            Node(g, "ReduceMean", ["xp"], "m", Attr("axes", [-1]));
            Node(g, "Sub", ["xp", "m"], "d");
            Node(g, "Pow", ["d", "two"], "d2");
            Node(g, "ReduceMean", ["d2"], "v", Attr("axes", [-1]));
            Node(g, "Add", ["v", "eps"], "ve");
            Node(g, "Sqrt", ["ve"], "s");
            Node(g, "Div", ["d", "s"], "n");
            Node(g, "Mul", ["n", "g1"], "ng");
            Node(g, "Add", ["ng", "b1"], "a");
        }
        Node(g, "MatMul", ["a", "W1"], "h1");
        Node(g, "Add", ["h1", "c1"], "y1");
        Node(g, "Reshape", ["y1", "shape"], "r");
        Node(g, "Gemm", ["r", "W2", "c2"], "y2", Attr("transB", 1));
        Node(g, "Transpose", ["W3"], "W3t", Attr("perm", [1, 0]));
        Node(g, "MatMul", ["y2", "W3t"], "y");
        var model = new ModelProto { IrVersion = 8, Graph = g, ProducerName = "amalgam-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    /// <summary>N x 3 x 6 random inputs saved as .npy; returns them in f64 (as stored in f32).</summary>
    public static double[] SaveData(string path, int n, Random rng, int zeroColumn = -1)
    {
        var v = new float[n * Tokens * Width];
        for (int i = 0; i < v.Length; i++) v[i] = i % Width == zeroColumn ? 0f : (float)(rng.NextDouble() * 4 - 2);
        using var t = Tensor.Allocate("x", DType.F32, [n, Tokens, Width]);
        v.CopyTo(t.Write<float>());
        NpyFile.Write(path, t);
        return v.Select(f => (double)f).ToArray();
    }

    /// <summary>The activations the methods need, by hand in f64 for samples [0, n).</summary>
    public sealed record Activations(double[,] XHat, double[,] A, double[,] Y1, double[,] Y2);

    public static Activations Forward(Dictionary<string, double[]> p, double[] x, int n)
    {
        int rows = n * Tokens;
        var xhat = new double[rows, Width];
        var a = new double[rows, Width];
        var y1 = new double[rows, 5];
        var y2 = new double[rows, 4];
        for (int r = 0; r < rows; r++)
        {
            int t = r % Tokens;
            var xp = Enumerable.Range(0, Width).Select(d => x[r * Width + d] + p["pos"][t * Width + d]).ToArray();
            double mean = xp.Average(), variance = xp.Select(v => (v - mean) * (v - mean)).Average();
            for (int d = 0; d < Width; d++)
            {
                xhat[r, d] = (xp[d] - mean) / Math.Sqrt(variance + Epsilon);
                a[r, d] = xhat[r, d] * p["g1"][d] + p["b1"][d];
            }
            for (int o = 0; o < 5; o++)
            {
                double s = p["c1"][o];
                for (int d = 0; d < Width; d++) s += a[r, d] * p["W1"][d * 5 + o];
                y1[r, o] = s;
            }
            for (int o = 0; o < 4; o++)
            {
                double s = p["c2"][o];
                for (int d = 0; d < 5; d++) s += y1[r, d] * p["W2"][o * 5 + d];
                y2[r, o] = s;
            }
        }
        return new Activations(xhat, a, y1, y2);
    }

    /// <summary>X^T X of a rows x d matrix.</summary>
    public static double[,] Gram(double[,] x)
    {
        int rows = x.GetLength(0), d = x.GetLength(1);
        var g = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int r = 0; r < rows; r++) s += x[r, i] * x[r, j];
                g[i, j] = s;
            }
        return g;
    }

    private static TensorProto Floats(string name, long[] shape, double[] values)
    {
        var t = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(values.SelectMany(v => BitConverter.GetBytes((float)v)).ToArray()) };
        t.Dims.AddRange(shape);
        return t;
    }

    private static ValueInfoProto Value(string name, long[] shape)
    {
        var s = new TensorShapeProto();
        foreach (long d in shape) s.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "N" } : new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = s } } };
    }

    private static void Node(GraphProto g, string op, string[] inputs, string output, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = output + "_" + op };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        n.Attribute.AddRange(attrs);
        g.Node.Add(n);
    }

    private static AttributeProto Attr(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };
    private static AttributeProto AttrF(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };
    private static AttributeProto Attr(string name, long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }
}
