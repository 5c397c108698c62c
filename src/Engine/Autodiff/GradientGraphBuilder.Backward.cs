using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Autodiff;

/// <summary>The reverse pass and the gradient model's inputs and outputs.</summary>
public static partial class GradientGraphBuilder
{
    /// <summary>
    /// Float32 LayerNormalization nodes also output their Mean and InvStdDev (optional outputs of the
    /// op, computed by the forward kernel anyway), so the backward step need not recompute them.
    /// </summary>
    private static void ExposeLayerNormStatistics(List<NodeProto> forward, Dictionary<string, ValueMeta> meta, GraphEmitter e, int opset)
    {
        foreach (var node in forward)
        {
            if (node.OpType != "LayerNormalization" || meta[node.Input[0]].ElemType != (int)DataType.Float) continue;
            if (node.Int("stash_type", (int)DataType.Float) != (int)DataType.Float) continue;
            while (node.Output.Count < 3) node.Output.Add("");
            for (int i = 1; i < 3; i++)
                if (node.Output[i].Length == 0) node.Output[i] = e.Fresh(i == 1 ? "ln_mean" : "ln_inv_std");
            ShapeInference.Infer(node, meta, opset);
        }
    }

    /// <summary>Reverse pass; returns the gradient value of each parameter (absent if none reaches it).</summary>
    private static Dictionary<string, string> Backward(List<NodeProto> forward, Dictionary<string, ValueMeta> meta, HashSet<string> parameters, GraphEmitter e)
    {
        // Values that depend on a parameter through float data (shape arithmetic never does).
        var depends = new HashSet<string>(parameters, StringComparer.Ordinal);
        foreach (var node in forward)
            if (node.Input.Any(depends.Contains))
                foreach (var o in node.Output)
                    if (o.Length > 0 && meta.TryGetValue(o, out var m) && m.IsFloat) depends.Add(o);

        // Gradient contributions per value: names, or slices of it (SlicePiece) from Slice nodes.
        var pending = new Dictionary<string, List<object>>(StringComparer.Ordinal) { [GradientGraph.LossOutput] = [e.Scalar(1)] };
        string? Take(string name)
        {
            if (!pending.Remove(name, out var list)) return null;
            var plain = list.OfType<string>().ToList();
            var pieces = list.OfType<SlicePiece>().ToList();
            if (pieces.Count > 0)
            {
                if (plain.Count == 0 && SlicePiece.TryConcat(e, pieces) is { } whole) return whole;
                plain.AddRange(pieces.Select(p => p.Padded(e)));
            }
            return plain.Count == 1 ? plain[0] : e.Node("Sum", plain);
        }

        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in forward)
        {
            foreach (var o in node.Output) producers[o] = node;
            foreach (var i in node.Input) consumers[i] = consumers.GetValueOrDefault(i) + 1;
        }

        for (int k = forward.Count - 1; k >= 0; k--)
        {
            var node = forward[k];
            var outGrads = node.Output.Select(o => o.Length > 0 ? Take(o) : null).ToArray();
            if (outGrads.All(g => g is null)) continue;
            var need = node.Input.Select(i => i.Length > 0 && depends.Contains(i)).ToArray();
            if (!need.Any(b => b)) continue;
            if (DecomposedLayerNorm.Match(node, producers, consumers, meta, e.Opset) is { } ln && depends.Contains(ln.X))
            {
                if (!pending.TryGetValue(ln.X, out var xs)) pending[ln.X] = xs = [];
                xs.Add(DecomposedLayerNorm.Gradient(e, node, outGrads[0]!, ln.Axes));
                continue;
            }
            if (!Rules.TryGetValue(node.OpType, out var rule))
                throw new UnsupportedOpException($"{node.Describe()}: op '{node.OpType}' has no gradient rule");
            var inMeta = node.Input.Select(i => i.Length > 0 ? meta[i] : null).ToArray();
            var outMeta = node.Output.Select(o => o.Length > 0 ? meta[o] : null!).ToArray();
            var ctx = new RuleContext(e, node, inMeta, outMeta, outGrads, need);
            Guarded(node, () => rule(ctx));
            for (int i = 0; i < need.Length; i++)
            {
                object? g = ctx.InGrad[i] ?? (object?)ctx.InPiece[i];
                if (!need[i] || g is null) continue;
                if (!pending.TryGetValue(node.Input[i], out var list)) pending[node.Input[i]] = list = [];
                list.Add(g);
            }
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in parameters)
            if (Take(p) is { } g) result[p] = g;
        return result;
    }

    private static void WriteInterface(GraphProto graph, List<GraphInput> data, GraphInput? labels, List<GraphInput> parameters,
        Dictionary<string, string> grads, GraphEmitter e, int floatType)
    {
        graph.Input.Clear();
        graph.Output.Clear();
        graph.ValueInfo.Clear();
        foreach (var d in data) graph.Input.Add(Info(d.Name, d.ElemType, d.Shape));
        if (labels is not null) graph.Input.Add(Info(labels.Name, labels.ElemType, labels.Shape));
        var paramSet = parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var keep = graph.Initializer.Where(t => !paramSet.Contains(t.Name)).ToList();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(keep);
        foreach (var p in parameters) graph.Input.Add(Info(p.Name, p.ElemType, p.Shape));
        graph.Output.Add(Info(GradientGraph.LossOutput, floatType, []));
        // A gradient made by a backward node nothing else reads is renamed in place; others get an Identity.
        var consumed = graph.Node.SelectMany(n => n.Input).GroupBy(i => i).ToDictionary(x => x.Key, x => x.Count(), StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var n in graph.Node.Where(n => n.Name.StartsWith("autodiff/", StringComparison.Ordinal)))
            foreach (var o in n.Output) producers[o] = n;
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            string source = grads.TryGetValue(p.Name, out var g) ? g : e.Zeros(p.Shape);
            string name = GradientGraph.GradientName(p.Name);
            if (renamed.TryGetValue(source, out var already))
            {
                graph.Node.Add(new NodeProto { OpType = "Identity", Name = "autodiff/" + name, Input = { already }, Output = { name } });
            }
            else if (producers.TryGetValue(source, out var producer) && !consumed.ContainsKey(source))
            {
                producer.Output[producer.Output.IndexOf(source)] = name;
                renamed[source] = name;
            }
            else
            {
                graph.Node.Add(new NodeProto { OpType = "Identity", Name = "autodiff/" + name, Input = { source }, Output = { name } });
            }
            graph.Output.Add(Info(name, p.ElemType, p.Shape));
        }
    }

    private static ValueInfoProto Info(string name, int elemType, long[] shape)
    {
        var s = new TensorShapeProto();
        foreach (long d in shape) s.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = s } } };
    }
}
