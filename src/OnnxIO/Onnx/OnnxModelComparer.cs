using System.Globalization;
using System.Text;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// Structural comparison of two models: do they have the same architecture, so that their weights can
/// be merged tensor by tensor? Compares opset imports, graph inputs and outputs (names and types),
/// nodes in order (op type, domain, inputs, outputs, attributes, subgraphs) and initializers (by name:
/// presence, element type, shape). Initializer values, node names, doc strings and metadata are not
/// compared. Differences come back as readable lines, "first vs second".
/// <para>
/// With <c>isPrivate</c> (task-private initializers such as classification heads, which may have
/// their own shape in every model), a private initializer may differ in shape or be absent from one
/// model, and a graph input or output computed from a private initializer (in both models) may differ
/// in its dimensions, e.g. the logits' class count. Its element type and rank must still agree, and
/// nodes are compared as always, so the architecture around the head is the same.
/// </para>
/// </summary>
public static class OnnxModelComparer
{
    public static IReadOnlyList<string> Compare(OnnxModel first, OnnxModel second, int maxDifferences = 20, Func<string, bool>? isPrivate = null) =>
        Compare(first.Proto, second.Proto, maxDifferences, isPrivate);

    /// <summary>At most <paramref name="maxDifferences"/> differences, in graph order; empty when the
    /// models have the same structure.</summary>
    public static IReadOnlyList<string> Compare(ModelProto first, ModelProto second, int maxDifferences = 20, Func<string, bool>? isPrivate = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxDifferences);
        var diff = new Differences(maxDifferences);
        string opsA = FormatOpsets(first), opsB = FormatOpsets(second);
        if (opsA != opsB) diff.Add($"opset imports {opsA} vs {opsB}");
        if (first.Graph is null || second.Graph is null)
        {
            if ((first.Graph is null) != (second.Graph is null)) diff.Add("only one model has a graph");
        }
        else
        {
            var scope = new PrivateScope(isPrivate, first.Graph, second.Graph);
            CompareGraphs(first.Graph, second.Graph, "", diff, scope);
        }
        return diff.Lines;
    }

    private sealed class Differences(int max)
    {
        public readonly List<string> Lines = new();
        public bool Full => Lines.Count >= max;
        public void Add(string line)
        {
            if (!Full) Lines.Add(line);
        }
    }

    /// <summary>
    /// The values of the main graphs that come from private initializers: the initializers themselves
    /// and every output of a node with such an input, in graph (topological) order.
    /// </summary>
    private sealed class PrivateScope
    {
        private readonly Func<string, bool>? _isPrivate;
        private readonly HashSet<string> _fromPrivateA = new(StringComparer.Ordinal), _fromPrivateB = new(StringComparer.Ordinal);

        public static readonly PrivateScope None = new(null, null, null);

        public PrivateScope(Func<string, bool>? isPrivate, GraphProto? a, GraphProto? b)
        {
            _isPrivate = isPrivate;
            if (isPrivate is null) return;
            Taint(a!, _fromPrivateA);
            Taint(b!, _fromPrivateB);
        }

        public bool IsPrivate(string initializer) => _isPrivate?.Invoke(initializer) == true;

        /// <summary>True when the value is computed from a private initializer in both graphs.</summary>
        public bool FromPrivate(string value) => _fromPrivateA.Contains(value) && _fromPrivateB.Contains(value);

        private void Taint(GraphProto g, HashSet<string> tainted)
        {
            foreach (var t in g.Initializer)
                if (_isPrivate!(t.Name)) tainted.Add(t.Name);
            foreach (var n in g.Node)
                if (n.Input.Any(tainted.Contains))
                    foreach (string o in n.Output)
                        if (o.Length > 0) tainted.Add(o);
        }
    }

    private static void CompareGraphs(GraphProto a, GraphProto b, string where, Differences diff, PrivateScope? scope = null)
    {
        scope ??= PrivateScope.None;
        CompareValueInfos("input", a.Input, b.Input, where, diff, scope);
        CompareValueInfos("output", a.Output, b.Output, where, diff, scope);
        CompareInitializers(a, b, where, diff, scope);
        if (a.Node.Count != b.Node.Count) diff.Add($"{where}{a.Node.Count} vs {b.Node.Count} nodes");
        for (int i = 0; i < Math.Min(a.Node.Count, b.Node.Count) && !diff.Full; i++)
            CompareNodes(a.Node[i], b.Node[i], $"{where}{NodeLabel(a.Node[i], i)}", diff);
    }

    private static void CompareValueInfos(string kind, IList<ValueInfoProto> a, IList<ValueInfoProto> b, string where, Differences diff, PrivateScope scope)
    {
        if (a.Count != b.Count)
            diff.Add($"{where}graph {kind}s [{string.Join(", ", a.Select(v => v.Name))}] vs [{string.Join(", ", b.Select(v => v.Name))}]");
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (a[i].Name != b[i].Name) diff.Add($"{where}graph {kind} {i}: '{a[i].Name}' vs '{b[i].Name}'");
            string ta = FormatType(a[i].Type), tb = FormatType(b[i].Type);
            if (ta == tb) continue;
            // A value computed from private initializers may have other dimensions (a head's class count), not another type or rank.
            if (a[i].Name == b[i].Name && scope.FromPrivate(a[i].Name) && FormatType(a[i].Type, dims: false) == FormatType(b[i].Type, dims: false)) continue;
            diff.Add($"{where}graph {kind} '{a[i].Name}' type {ta} vs {tb}");
        }
    }

    private static void CompareInitializers(GraphProto a, GraphProto b, string where, Differences diff, PrivateScope scope)
    {
        var inB = new Dictionary<string, TensorProto>(StringComparer.Ordinal);
        foreach (var t in b.Initializer) inB.TryAdd(t.Name, t);
        var inA = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ta in a.Initializer)
        {
            if (!inA.Add(ta.Name)) continue;
            bool isPrivate = scope.IsPrivate(ta.Name);
            if (!inB.TryGetValue(ta.Name, out var tb))
            {
                if (!isPrivate) diff.Add($"{where}initializer '{ta.Name}' only in the first model");
                continue;
            }
            if (ta.DataType != tb.DataType)
                diff.Add($"{where}initializer '{ta.Name}' element type {OnnxDTypes.OnnxName(ta.DataType)} vs {OnnxDTypes.OnnxName(tb.DataType)}");
            if (!isPrivate && !ta.Dims.SequenceEqual(tb.Dims))
                diff.Add($"{where}initializer '{ta.Name}' shape {FormatDims(ta.Dims)} vs {FormatDims(tb.Dims)}");
        }
        foreach (var tb in b.Initializer)
            if (!inA.Contains(tb.Name) && !scope.IsPrivate(tb.Name)) diff.Add($"{where}initializer '{tb.Name}' only in the second model");
    }

    private static void CompareNodes(NodeProto a, NodeProto b, string label, Differences diff)
    {
        string opA = FormatOp(a), opB = FormatOp(b);
        if (opA != opB)
        {
            diff.Add($"{label}: op {opA} vs {opB}");
            return;   // the rest of a different operator says nothing new
        }
        CompareNames("input", a.Input, b.Input, label, diff);
        CompareNames("output", a.Output, b.Output, label, diff);
        var attrsB = b.Attribute.GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var namesA = new HashSet<string>(a.Attribute.Select(x => x.Name), StringComparer.Ordinal);
        foreach (var attrA in a.Attribute)
        {
            if (!attrsB.TryGetValue(attrA.Name, out var attrB))
            {
                diff.Add($"{label}: attribute '{attrA.Name}' only in the first model");
                continue;
            }
            CompareAttributes(attrA, attrB, $"{label} attribute '{attrA.Name}'", diff);
        }
        foreach (var attrB in b.Attribute)
            if (!namesA.Contains(attrB.Name)) diff.Add($"{label}: attribute '{attrB.Name}' only in the second model");
    }

    private static void CompareNames(string kind, IList<string> a, IList<string> b, string label, Differences diff)
    {
        if (a.Count != b.Count)
        {
            diff.Add($"{label}: {kind}s [{string.Join(", ", a)}] vs [{string.Join(", ", b)}]");
            return;
        }
        for (int i = 0; i < a.Count; i++)
            if (a[i] != b[i]) diff.Add($"{label}: {kind} {i} '{a[i]}' vs '{b[i]}'");
    }

    private static void CompareAttributes(AttributeProto a, AttributeProto b, string label, Differences diff)
    {
        if (a.Type != b.Type)
        {
            diff.Add($"{label}: type {a.Type} vs {b.Type}");
            return;
        }
        if (a.RefAttrName != b.RefAttrName) diff.Add($"{label}: refers to '{a.RefAttrName}' vs '{b.RefAttrName}'");
        string va = AttributeFormat.Value(a), vb = AttributeFormat.Value(b);
        if (va != vb) diff.Add($"{label}: {AttributeFormat.Shorten(va)} vs {AttributeFormat.Shorten(vb)}");
        else if (!AttributeFormat.TensorsEqual(a, b)) diff.Add($"{label}: tensor values differ");
        if (a.G is not null && b.G is not null) CompareGraphs(a.G, b.G, $"{label} subgraph: ", diff);
        for (int i = 0; i < Math.Min(a.Graphs.Count, b.Graphs.Count); i++)
            CompareGraphs(a.Graphs[i], b.Graphs[i], $"{label} subgraph {i}: ", diff);
    }

    private static string NodeLabel(NodeProto n, int index) =>
        n.Name.Length > 0 ? $"node {index} '{n.Name}' ({n.OpType})" : $"node {index} ({n.OpType})";

    private static string FormatOp(NodeProto n) => n.Domain.Length > 0 ? $"{n.Domain}.{n.OpType}" : n.OpType;

    private static string FormatOpsets(ModelProto m) =>
        "[" + string.Join(", ", m.OpsetImport.Select(o => $"{(o.Domain.Length > 0 ? o.Domain : "ai.onnx")} {o.Version}").Order(StringComparer.Ordinal)) + "]";

    internal static string FormatDims(IEnumerable<long> dims) => "[" + string.Join(", ", dims) + "]";

    /// <summary>"FLOAT [batch, 3, 28, 28]" for tensors; other kinds by their protobuf text.</summary>
    /// <param name="dims">False: element type and rank only ("FLOAT rank 2").</param>
    private static string FormatType(TypeProto? t, bool dims = true)
    {
        if (t is null) return "(none)";
        if (t.TensorType is not { } tensor) return t.ToString();
        var sb = new StringBuilder(OnnxDTypes.OnnxName(tensor.ElemType));
        if (tensor.Shape is { } shape)
        {
            if (!dims) return sb.Append(" rank ").Append(shape.Dim.Count).ToString();
            sb.Append(" [");
            sb.Append(string.Join(", ", shape.Dim.Select(d =>
                d.HasDimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.HasDimParam ? d.DimParam : "?")));
            sb.Append(']');
        }
        return sb.ToString();
    }
}
