using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Support;

/// <summary>
/// A two-layer tanh MLP laid out as torch exports <c>nn.Linear</c> into Gemm (weight [out, in],
/// <c>transB=1</c>), with an optional classification head of its own class count and an
/// independent float64 forward:
/// x [N, In] -> l1 (Hidden) -> tanh -> l2 (Hidden) -> tanh -> head.weight [C, Hidden], head.bias [C]
/// -> logits [N, C]. Without a head the output is the features [N, Hidden] (a headless backbone).
/// Values are f32 held as double, so the float64 forward sees exactly what ONNX Runtime sees.
/// </summary>
internal sealed class HeadedMlp
{
    public const int In = 4, Hidden = 6;
    public static readonly string[] SharedNames = ["l1.bias", "l1.weight", "l2.bias", "l2.weight"];   // ordinal order = the engine's layer order

    public Dictionary<string, double[]> P { get; } = new(StringComparer.Ordinal);

    /// <summary>Head classes, or null for a headless model.</summary>
    public int? Classes { get; }

    public HeadedMlp(int? classes, Dictionary<string, double[]> shared, double[]? headWeight = null, double[]? headBias = null)
    {
        Classes = classes;
        foreach (var (k, v) in shared) P[k] = v;
        if (classes is int c)
        {
            P["head.weight"] = headWeight ?? throw new ArgumentNullException(nameof(headWeight));
            P["head.bias"] = headBias ?? throw new ArgumentNullException(nameof(headBias));
            if (P["head.weight"].Length != c * Hidden || P["head.bias"].Length != c) throw new ArgumentException("head shape");
        }
    }

    public static long[] ShapeOf(string name, int? classes) => name switch
    {
        "l1.weight" => [Hidden, In],
        "l2.weight" => [Hidden, Hidden],
        "l1.bias" or "l2.bias" => [Hidden],
        "head.weight" => [classes!.Value, Hidden],
        "head.bias" => [classes!.Value],
        _ => throw new ArgumentException(name),
    };

    /// <summary>Seeded f32 values (held as double) uniform in ±<paramref name="scale"/>.</summary>
    public static double[] Random(Random rng, long n, double scale) =>
        Enumerable.Range(0, (int)n).Select(_ => (double)(float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    public static Dictionary<string, double[]> RandomShared(Random rng, double scale = 0.8) =>
        SharedNames.ToDictionary(n => n, n => Random(rng, ShapeOf(n, null).Aggregate(1L, (a, b) => a * b), scale), StringComparer.Ordinal);

    /// <summary>The model's output for one sample in float64 with parameters <paramref name="p"/> (logits, or features when headless).</summary>
    public static double[] Forward(IReadOnlyDictionary<string, double[]> p, ReadOnlySpan<double> x, int? classes)
    {
        var h1 = Linear(p["l1.weight"], p["l1.bias"], x, Hidden, In);
        for (int j = 0; j < Hidden; j++) h1[j] = Math.Tanh(h1[j]);
        var h2 = Linear(p["l2.weight"], p["l2.bias"], h1, Hidden, Hidden);
        for (int j = 0; j < Hidden; j++) h2[j] = Math.Tanh(h2[j]);
        return classes is int c ? Linear(p["head.weight"], p["head.bias"], h2, c, Hidden) : h2;
    }

    /// <summary>W [rows, cols] x + b, as torch's Linear.</summary>
    private static double[] Linear(double[] w, double[] b, ReadOnlySpan<double> x, int rows, int cols)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = b[r];
            for (int c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
            y[r] = s;
        }
        return y;
    }

    /// <summary>Softmax entropy of one sample's logits in float64.</summary>
    public static double Entropy(double[] z)
    {
        double max = z.Max();
        double sum = z.Sum(v => Math.Exp(v - max));
        double logSum = Math.Log(sum) + max, h = 0;
        foreach (double v in z)
        {
            double logP = v - logSum;
            h -= Math.Exp(logP) * logP;
        }
        return h;
    }

    /// <summary>The model as ONNX (opset 17, batch axis symbolic), saved to <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        var graph = new GraphProto { Name = "headed_mlp" };
        graph.Input.Add(TanhMlp.Value("x", ["N", In.ToString()]));
        string output = Classes is null ? "features" : "logits";
        graph.Output.Add(TanhMlp.Value(output, ["N", (Classes ?? Hidden).ToString()]));
        foreach (var (name, values) in P)
        {
            var t = new TensorProto { Name = name, DataType = (int)DataType.Float,
                RawData = ByteString.CopyFrom(values.SelectMany(v => BitConverter.GetBytes((float)v)).ToArray()) };
            t.Dims.AddRange(ShapeOf(name, Classes));
            graph.Initializer.Add(t);
        }
        graph.Node.Add(Gemm("x", "l1", "z1"));
        graph.Node.Add(TanhMlp.Node("Tanh", ["z1"], "a1"));
        graph.Node.Add(Gemm("a1", "l2", "z2"));
        graph.Node.Add(TanhMlp.Node("Tanh", ["z2"], Classes is null ? "features" : "a2"));
        if (Classes is not null) graph.Node.Add(Gemm("a2", "head", "logits"));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "amalgam-tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        new OnnxModel(model, Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileName(path)).Save(path, OnnxSaveOptions.Inline);
    }

    private static NodeProto Gemm(string x, string layer, string output)
    {
        var n = TanhMlp.Node("Gemm", [x, layer + ".weight", layer + ".bias"], output);
        n.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        return n;
    }
}
