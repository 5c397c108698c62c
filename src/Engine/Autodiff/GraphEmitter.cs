using Onnx;
using static Amalgam.Engine.Autodiff.NodeAttributes;

namespace Amalgam.Engine.Autodiff;

/// <summary>
/// Appends nodes and constant initializers to a graph under fresh names, writing each op in the form
/// the model's opset expects (axes as attribute or input).
/// </summary>
internal sealed class GraphEmitter
{
    private readonly GraphProto _graph;
    private readonly HashSet<string> _taken;
    private readonly Dictionary<(int, double), string> _scalars = [];
    private readonly Dictionary<string, string> _memo = new(StringComparer.Ordinal);
    private int _counter;

    public GraphEmitter(GraphProto graph, int opset, int floatType, IEnumerable<string> takenNames)
    {
        _graph = graph;
        Opset = opset;
        FloatType = floatType;
        _taken = new HashSet<string>(takenNames, StringComparer.Ordinal);
    }

    public int Opset { get; }

    /// <summary>Element type of the differentiated values (FLOAT or DOUBLE).</summary>
    public int FloatType { get; }

    public string Fresh(string hint)
    {
        string name;
        do name = $"autodiff/{hint}_{_counter++}"; while (!_taken.Add(name));
        return name;
    }

    public string[] NodeN(string op, int outputs, IEnumerable<string> inputs, params AttributeProto[] attrs)
    {
        var node = new NodeProto { OpType = op, Name = Fresh(op) };
        node.Input.AddRange(inputs);
        for (int i = 0; i < outputs; i++) node.Output.Add(Fresh(op.ToLowerInvariant()));
        node.Attribute.AddRange(attrs);
        _graph.Node.Add(node);
        return node.Output.ToArray();
    }

    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attrs) => NodeN(op, 1, inputs, attrs)[0];

    public string Constant(ConstValue value, string hint = "const")
    {
        string name = Fresh(hint);
        _graph.Initializer.Add(value.ToTensor(name));
        return name;
    }

    /// <summary>An int64 vector constant (shared per content).</summary>
    public string Ints(params long[] values) =>
        Memo("ints:" + string.Join(",", values), () => Constant(ConstValue.OfInts(values), "ints"));

    /// <summary>Pure layout nodes are emitted once per (input, target): a reshaped activation or a
    /// transposed weight used by several backward steps is made once.</summary>
    private string Memo(string key, Func<string> make)
    {
        if (!_memo.TryGetValue(key, out var name)) _memo[key] = name = make();
        return name;
    }

    /// <summary>A scalar of the differentiated float type (shared per value).</summary>
    public string Scalar(double v) => ScalarOf(FloatType, v);

    public string ScalarOf(int type, double v)
    {
        if (!_scalars.TryGetValue((type, v), out var name))
            _scalars[(type, v)] = name = Constant(new ConstValue(type, [], null, [v]), "scalar");
        return name;
    }

    public string Add(string a, string b) => Node("Add", [a, b]);
    public string Sub(string a, string b) => Node("Sub", [a, b]);
    public string Mul(string a, string b) => Node("Mul", [a, b]);
    public string Div(string a, string b) => Node("Div", [a, b]);
    public string Neg(string a) => Node("Neg", [a]);
    public string Exp(string a) => Node("Exp", [a]);

    public string Reshape(string x, long[] shape) =>
        Memo($"reshape:{x}:{string.Join(",", shape)}", () => Node("Reshape", [x, Ints(shape)]));

    public string Transpose(string x, long[] perm) =>
        Memo($"transpose:{x}:{string.Join(",", perm)}", () => Node("Transpose", [x], Attr("perm", perm)));

    public string Expand(string x, long[] shape) => Node("Expand", [x, Ints(shape)]);

    public string Zeros(long[] shape) =>
        Node("ConstantOfShape", [Ints(shape)], Attr("value", new ConstValue(FloatType, [1], null, [0.0]).ToTensor("value")));

    public string ReduceSum(string x, long[] axes, bool keepdims) =>
        Opset >= 13
            ? Node("ReduceSum", [x, Ints(axes)], Attr("keepdims", keepdims ? 1L : 0L))
            : Node("ReduceSum", [x], Attr("axes", axes), Attr("keepdims", keepdims ? 1L : 0L));

    public string ReduceMean(string x, long[] axes, bool keepdims) =>
        Opset >= 18
            ? Node("ReduceMean", [x, Ints(axes)], Attr("keepdims", keepdims ? 1L : 0L))
            : Node("ReduceMean", [x], Attr("axes", axes), Attr("keepdims", keepdims ? 1L : 0L));

    public string[] Split(string x, long axis, long[] sizes) =>
        Opset >= 13
            ? NodeN("Split", sizes.Length, [x, Ints(sizes)], Attr("axis", axis))
            : NodeN("Split", sizes.Length, [x], Attr("axis", axis), Attr("split", sizes));

    public string Cast(string x, int to) => Node("Cast", [x], Attr("to", (long)to));

    /// <summary>Sums a gradient of shape <paramref name="from"/> back to a broadcast operand's shape.</summary>
    public string Unbroadcast(string grad, long[] from, long[] to)
    {
        if (from.SequenceEqual(to)) return grad;
        var axes = ShapeMath.BroadcastAxes(from, to);
        if (axes.Length == 0) return Reshape(grad, to);
        // One node when dropping the reduced axes already gives the operand's shape (a bias [C] of [B, S, C]).
        if (from.Where((_, i) => !axes.Contains(i)).SequenceEqual(to)) return ReduceSum(grad, axes, keepdims: false);
        string g = ReduceSum(grad, axes, keepdims: true);
        var kept = from.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        return kept.SequenceEqual(to) ? g : Reshape(g, to);
    }
}
