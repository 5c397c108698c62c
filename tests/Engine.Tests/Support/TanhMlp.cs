using Amalgam.Engine.Data.Npy;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Support;

/// <summary>
/// A tiny classifier as ONNX (opset 17) with an independent float64 forward in C#:
/// x [N, In] -> Gemm(w1 [In, Hidden], b1) -> Tanh -> Gemm(w2 [Hidden, Classes], b2) -> logits [N, Classes],
/// the batch axis symbolic. Parameters uniform in ±0.8 from a seeded System.Random, stored as f32
/// (the double forward uses the same f32 values).
/// </summary>
internal sealed class TanhMlp
{
    public const int In = 4, Hidden = 5, Classes = 3;
    public static readonly string[] Names = ["w1", "b1", "w2", "b2"];
    public static readonly long[][] ShapesOf = [[In, Hidden], [Hidden], [Hidden, Classes], [Classes]];

    /// <summary>Parameter values by name (f32 values held as double).</summary>
    public Dictionary<string, double[]> P { get; } = new(StringComparer.Ordinal);

    public TanhMlp(int seed, double scale = 0.8)
    {
        var rng = new Random(seed);
        for (int i = 0; i < Names.Length; i++)
        {
            long n = ShapesOf[i].Aggregate(1L, (a, b) => a * b);
            P[Names[i]] = Enumerable.Range(0, (int)n).Select(_ => (double)(float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
        }
    }

    /// <summary>Logits of one sample in float64 with parameters <paramref name="p"/>.</summary>
    public static double[] Logits(IReadOnlyDictionary<string, double[]> p, ReadOnlySpan<double> x)
    {
        var h = new double[Hidden];
        for (int j = 0; j < Hidden; j++)
        {
            double s = p["b1"][j];
            for (int i = 0; i < In; i++) s += x[i] * p["w1"][i * Hidden + j];
            h[j] = Math.Tanh(s);
        }
        var z = new double[Classes];
        for (int c = 0; c < Classes; c++)
        {
            double s = p["b2"][c];
            for (int j = 0; j < Hidden; j++) s += h[j] * p["w2"][j * Classes + c];
            z[c] = s;
        }
        return z;
    }

    /// <summary>log softmax(z)[c] in float64.</summary>
    public static double LogProb(double[] z, int c)
    {
        double max = z.Max();
        double sum = z.Sum(v => Math.Exp(v - max));
        return z[c] - max - Math.Log(sum);
    }

    public static int ArgMax(double[] z)
    {
        int best = 0;
        for (int c = 1; c < z.Length; c++) if (z[c] > z[best]) best = c;
        return best;
    }

    /// <summary>The model as ONNX, saved to <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        var graph = new GraphProto { Name = "tanh_mlp" };
        graph.Input.Add(Value("x", ["N", In.ToString()]));
        graph.Output.Add(Value("logits", ["N", Classes.ToString()]));
        for (int i = 0; i < Names.Length; i++)
        {
            var t = new TensorProto { Name = Names[i], DataType = (int)DataType.Float,
                RawData = ByteString.CopyFrom(P[Names[i]].SelectMany(v => BitConverter.GetBytes((float)v)).ToArray()) };
            t.Dims.AddRange(ShapesOf[i]);
            graph.Initializer.Add(t);
        }
        graph.Node.Add(Node("Gemm", ["x", "w1", "b1"], "h"));
        graph.Node.Add(Node("Tanh", ["h"], "a"));
        graph.Node.Add(Node("Gemm", ["a", "w2", "b2"], "logits"));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "amalgam-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        new OnnxModel(model, Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileName(path)).Save(path, OnnxSaveOptions.Inline);
    }

    /// <summary>n random inputs [n, In] in ±1.5 (f32 values held as double), also written as .npy to <paramref name="path"/> when given.</summary>
    public static double[][] Inputs(int n, int seed, string? path = null)
    {
        var rng = new Random(seed);
        var x = Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, In).Select(_ => (double)(float)((rng.NextDouble() * 2 - 1) * 1.5)).ToArray()).ToArray();
        if (path is not null)
        {
            using var t = Tensor.Allocate("x", DType.F32, [n, In]);
            var w = t.Write<float>();
            for (int i = 0; i < n; i++) for (int j = 0; j < In; j++) w[i * In + j] = (float)x[i][j];
            NpyFile.Write(path, t);
        }
        return x;
    }

    /// <summary>Writes int64 labels as .npy.</summary>
    public static void WriteLabels(string path, long[] labels, long[]? shape = null)
    {
        using var t = Tensor.Allocate("labels", DType.I64, shape ?? [labels.Length]);
        labels.CopyTo(t.Write<long>());
        NpyFile.Write(path, t);
    }

    internal static NodeProto Node(string op, string[] inputs, string output)
    {
        var n = new NodeProto { OpType = op, Name = output + "_" + op };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    internal static ValueInfoProto Value(string name, string[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (string d in dims)
            shape.Dim.Add(long.TryParse(d, out long v) ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
