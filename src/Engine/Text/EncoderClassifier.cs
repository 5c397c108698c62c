using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;

namespace Amalgam.Engine.Text;

/// <summary>How token states become one sentence vector.</summary>
public enum Pooling
{
    /// <summary>Mean of the token states where attention_mask is 1 (sentence-transformers' mean pooling; all-MiniLM-L6-v2's own).</summary>
    Mean,

    /// <summary>The first token's state ([CLS]; Snowflake arctic-embed's own pooling).</summary>
    Cls,
}

/// <summary>
/// A text classifier built from someone else's encoder export: the encoder's graph pruned to its
/// <c>last_hidden_state</c> [N, S, H], a pooling (<see cref="Pooling"/>) to <c>features</c> [N, H],
/// and a linear head <c>head.weight</c> [C, H], <c>head.bias</c> [C] as torch's Linear exports it
/// (Gemm, transB=1) to <c>logits</c> [N, C]. Outputs and nodes that do not feed the result (e.g. a
/// BERT pooler) are removed with their initializers. Only ops every opset from 11 on reads the same
/// way are added (Cast, Reshape, Mul, ReduceMean with its axes attribute, Div, Gather, Gemm), so the
/// encoder keeps its own opset.
/// </summary>
public static class EncoderClassifier
{
    public const string HiddenStates = "last_hidden_state";
    public const string Features = "features";
    public const string Logits = "logits";
    public const string HeadWeight = "head.weight";
    public const string HeadBias = "head.bias";

    /// <summary>The encoder with pooling only: output <see cref="Features"/> [N, H] (for linear probes).</summary>
    public static OnnxModel FeatureModel(OnnxModel encoder, Pooling pooling)
    {
        var proto = encoder.Proto.Clone();
        int hidden = HiddenSize(proto.Graph);
        AddPooling(proto.Graph, pooling, Features);
        SetOutput(proto.Graph, Features, hidden);
        Prune(proto.Graph);
        return new OnnxModel(proto, encoder.BaseDirectory, encoder.DisplayName + " (features)");
    }

    /// <summary>The classifier with head values <paramref name="weight"/> [C * H, row-major] and <paramref name="bias"/> [C].</summary>
    public static OnnxModel Create(OnnxModel encoder, Pooling pooling, int classes, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        var proto = encoder.Proto.Clone();
        var g = proto.Graph;
        int hidden = HiddenSize(g);
        if (classes < 1 || weight.Length != classes * hidden || bias.Length != classes)
            throw new ArgumentException($"head of {classes} classes over {hidden} features needs {classes * hidden} weights and {classes} biases, got {weight.Length} and {bias.Length}");
        string features = AddPooling(g, pooling, "pooled_features");
        g.Initializer.Add(Floats(HeadWeight, [classes, hidden], weight));
        g.Initializer.Add(Floats(HeadBias, [classes], bias));
        var gemm = NodeOf("Gemm", [features, HeadWeight, HeadBias], Logits, "head/Gemm");
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        g.Node.Add(gemm);
        SetOutput(g, Logits, classes);
        Prune(g);
        return new OnnxModel(proto, encoder.BaseDirectory, encoder.DisplayName + $" (classifier, {classes} classes)");
    }

    /// <summary>H of the encoder's last_hidden_state, from its declared type or the word embedding's width.</summary>
    private static int HiddenSize(GraphProto g)
    {
        var output = g.Output.FirstOrDefault(o => o.Name == HiddenStates)
            ?? throw new BadInputException($"encoder: no output '{HiddenStates}' (outputs: {string.Join(", ", g.Output.Select(o => o.Name))})");
        var dims = output.Type?.TensorType?.Shape?.Dim;
        if (dims is { Count: 3 } && dims[2].HasDimValue) return checked((int)dims[2].DimValue);
        var embedding = g.Initializer.FirstOrDefault(t => t.Name.EndsWith("word_embeddings.weight", StringComparison.Ordinal) && t.Dims.Count == 2)
            ?? throw new BadInputException($"encoder: cannot tell the width of '{HiddenStates}' (no fixed last dimension and no word_embeddings.weight)");
        return checked((int)embedding.Dims[1]);
    }

    /// <summary>Adds the pooling nodes over last_hidden_state; returns the name of the [N, H] result.</summary>
    private static string AddPooling(GraphProto g, Pooling pooling, string output)
    {
        if (pooling == Pooling.Cls)
        {
            g.Node.Add(ConstantInt64("pool/first_token", [], [0]));
            var gather = NodeOf("Gather", [HiddenStates, "pool/first_token"], output, "pool/Gather");
            gather.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            g.Node.Add(gather);
            return output;
        }
        if (!g.Input.Any(i => i.Name == "attention_mask"))
            throw new BadInputException("encoder: mean pooling needs an 'attention_mask' input");
        // mean = ReduceMean_S(h * m) / ReduceMean_S(m): the 1/S factors cancel, and ReduceMean reads its axes from an attribute up to opset 17.
        var cast = NodeOf("Cast", ["attention_mask"], "pool/mask", "pool/Cast");
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (long)TensorProto.Types.DataType.Float });
        g.Node.Add(cast);
        g.Node.Add(ConstantInt64("pool/mask_shape", [3], [0, -1, 1]));
        g.Node.Add(NodeOf("Reshape", ["pool/mask", "pool/mask_shape"], "pool/mask3", "pool/Reshape"));
        g.Node.Add(NodeOf("Mul", [HiddenStates, "pool/mask3"], "pool/masked", "pool/Mul"));
        g.Node.Add(ReduceMeanOverTokens("pool/masked", "pool/sum"));
        g.Node.Add(ReduceMeanOverTokens("pool/mask3", "pool/count"));
        g.Node.Add(NodeOf("Div", ["pool/sum", "pool/count"], output, "pool/Div"));
        return output;
    }

    private static NodeProto ReduceMeanOverTokens(string input, string output)
    {
        var n = NodeOf("ReduceMean", [input], output, output + "/ReduceMean");
        n.Attribute.Add(new AttributeProto { Name = "axes", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1L } });
        n.Attribute.Add(new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
        return n;
    }

    /// <summary>The graph's only output becomes <paramref name="name"/>: float [batch, <paramref name="width"/>].</summary>
    private static void SetOutput(GraphProto g, string name, long width)
    {
        var batch = g.Input.First(i => i.Name == "input_ids").Type.TensorType.Shape.Dim[0].Clone();
        var shape = new TensorShapeProto();
        shape.Dim.Add(batch);
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        g.Output.Clear();
        g.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } });
    }

    /// <summary>Keeps only the nodes the outputs need (graph order), the initializers they read and value infos of kept values.</summary>
    private static void Prune(GraphProto g)
    {
        var needed = new HashSet<string>(g.Output.Select(o => o.Name), StringComparer.Ordinal);
        var keep = new bool[g.Node.Count];
        for (int i = g.Node.Count - 1; i >= 0; i--)
        {
            var n = g.Node[i];
            if (!n.Output.Any(needed.Contains)) continue;
            keep[i] = true;
            foreach (string input in n.Input) if (input.Length > 0) needed.Add(input);
            foreach (var attr in n.Attribute) AddOuterScopeNames(attr, needed);
        }
        var nodes = g.Node.Where((_, i) => keep[i]).ToList();
        g.Node.Clear();
        g.Node.AddRange(nodes);
        var inits = g.Initializer.Where(t => needed.Contains(t.Name)).ToList();
        g.Initializer.Clear();
        g.Initializer.AddRange(inits);
        var produced = new HashSet<string>(nodes.SelectMany(n => n.Output), StringComparer.Ordinal);
        var infos = g.ValueInfo.Where(v => produced.Contains(v.Name) && !g.Output.Any(o => o.Name == v.Name)).ToList();
        g.ValueInfo.Clear();
        g.ValueInfo.AddRange(infos);
    }

    /// <summary>Names a subgraph reads from the enclosing scope (conservatively: every input of its nodes).</summary>
    private static void AddOuterScopeNames(AttributeProto attr, HashSet<string> needed)
    {
        foreach (var sub in attr.Graphs.Append(attr.G).Where(s => s is not null))
            foreach (var n in sub!.Node)
            {
                foreach (string input in n.Input) if (input.Length > 0) needed.Add(input);
                foreach (var inner in n.Attribute) AddOuterScopeNames(inner, needed);
            }
    }

    private static NodeProto NodeOf(string op, string[] inputs, string output, string name)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    private static NodeProto ConstantInt64(string output, long[] dims, long[] values)
    {
        var t = new TensorProto { Name = output, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(values);
        var n = NodeOf("Constant", [], output, output + "/Constant");
        n.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t });
        return n;
    }

    private static TensorProto Floats(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        return t;
    }
}
