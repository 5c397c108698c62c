using Amalgam.Engine.Merging;
using Amalgam.OnnxIO.Onnx;
using Onnx;

namespace Amalgam.Engine.LayerInputs;

/// <summary>
/// The ops of a model whose inputs data-dependent merges need (RegMean, CAT): every linear op and
/// every layer norm (LayerNormalization, or torch's decomposed pattern
/// Sub(x, ReduceMean(x)) / Sqrt(ReduceMean(Pow(., 2)) + eps) followed by Mul(scale), Add(bias)),
/// restricted to weights in <c>shared</c> (task-private heads are not merged, so not analysed).
/// </summary>
public sealed class FeatureGraph
{
    public required IReadOnlyList<LinearOp> Linears { get; init; }
    public required IReadOnlyList<NormOp> Norms { get; init; }

    /// <summary>The shared weights that have at least one linear op, in graph order.</summary>
    public IReadOnlyList<string> LinearWeights => Linears.Select(l => l.Weight).Distinct().ToList();

    /// <summary>
    /// The feature graph of a merge problem over its shared parameters (ONNX problems only), found in the
    /// first task model: the task graphs are validated to agree outside private parameters, and the base
    /// may be a headless backbone whose graph was not compared.
    /// </summary>
    public static FeatureGraph Of(MergeProblem problem) =>
        Find(((Checkpoints.OnnxCheckpoint)problem.Tasks[0]).Model, problem.Shared.Select(t => t.Name).ToHashSet(StringComparer.Ordinal));

    public static FeatureGraph Find(OnnxModel model, IReadOnlySet<string> shared)
    {
        var graph = model.Graph;
        var inits = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var producers = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (var n in graph.Node)
            foreach (var o in n.Output)
                if (o.Length > 0) producers[o] = n;
        var consumers = graph.Node.SelectMany(n => n.Input.Select(i => (i, n))).ToLookup(p => p.i, p => p.n, StringComparer.Ordinal);

        // A shared 2-D initializer, directly or through Transpose (perm absent or [1, 0]).
        (string Name, long Rows, long Cols, bool Transposed)? Weight(string value)
        {
            if (inits.TryGetValue(value, out var t))
                return shared.Contains(value) && t.Dims.Count == 2 ? (value, t.Dims[0], t.Dims[1], false) : null;
            if (producers.TryGetValue(value, out var tr) && tr.OpType == "Transpose" && inits.TryGetValue(tr.Input[0], out var w)
                && shared.Contains(w.Name) && w.Dims.Count == 2)
            {
                var perm = tr.Attribute.FirstOrDefault(a => a.Name == "perm");
                if (perm is null || perm.Ints.SequenceEqual([1L, 0L])) return (w.Name, w.Dims[1], w.Dims[0], true);
            }
            return null;
        }

        var linears = new List<LinearOp>();
        var norms = new List<NormOp>();
        foreach (var n in graph.Node)
        {
            if (n.OpType == "MatMul" && n.Input.Count == 2 && Weight(n.Input[1]) is { } mw)
            {
                // Effective W = rows x cols as MatMul sees it; stored transposed when reached through Transpose.
                linears.Add(new LinearOp(n.Name, mw.Name, n.Input[0], (int)mw.Rows, (int)mw.Cols, mw.Transposed));
            }
            else if (n.OpType == "Gemm" && n.Input.Count >= 2 && Int(n, "transA", 0) == 0 && Weight(n.Input[1]) is { } gw)
            {
                bool transB = Int(n, "transB", 0) != 0;
                // op(B) = B^T when transB: the effective W is the transpose of what MatMul would see.
                long dIn = transB ? gw.Cols : gw.Rows, dOut = transB ? gw.Rows : gw.Cols;
                linears.Add(new LinearOp(n.Name, gw.Name, n.Input[0], (int)dIn, (int)dOut, gw.Transposed ^ transB));
            }
            else if (n.OpType == "LayerNormalization" && n.Input.Count >= 2 && inits.TryGetValue(n.Input[1], out var scale)
                && shared.Contains(scale.Name) && scale.Dims.Count == 1 && Int(n, "axis", -1) == -1)
            {
                string? bias = n.Input.Count > 2 && n.Input[2].Length > 0 ? n.Input[2] : null;
                norms.Add(new NormOp(n.Name, scale.Name, bias, n.Input[0], false, Float(n, "epsilon", 1e-5f), (int)scale.Dims[0]));
            }
            else if (n.OpType == "Div" && IsDecomposedNorm(n, producers))
            {
                foreach (var mul in consumers[n.Output[0]].Where(c => c.OpType == "Mul"))
                {
                    string other = mul.Input[0] == n.Output[0] ? mul.Input[1] : mul.Input[0];
                    if (!inits.TryGetValue(other, out var s) || !shared.Contains(other) || s.Dims.Count != 1) continue;
                    string? bias = consumers[mul.Output[0]].Where(c => c.OpType == "Add")
                        .Select(a => a.Input[0] == mul.Output[0] ? a.Input[1] : a.Input[0])
                        .FirstOrDefault(b => inits.TryGetValue(b, out var bt) && bt.Dims.Count == 1);
                    norms.Add(new NormOp(n.Name, other, bias, n.Output[0], true, 0f, (int)s.Dims[0]));
                }
            }
        }
        return new FeatureGraph { Linears = linears, Norms = norms };
    }

    /// <summary>Div(Sub(x, ReduceMean(x)), Sqrt(Add(ReduceMean(Pow(Sub, 2)), eps))) with every reduction over the last axis.</summary>
    private static bool IsDecomposedNorm(NodeProto div, Dictionary<string, NodeProto> producers)
    {
        NodeProto? P(string v, string op) => producers.TryGetValue(v, out var p) && p.OpType == op ? p : null;
        if (div.Input.Count != 2) return false;
        var sub = P(div.Input[0], "Sub");
        var sqrt = P(div.Input[1], "Sqrt");
        if (sub is null || sqrt is null) return false;
        var mean = P(sub.Input[1], "ReduceMean");
        var add = P(sqrt.Input[0], "Add");
        if (mean is null || add is null || mean.Input[0] != sub.Input[0] || !LastAxis(mean)) return false;
        var variance = P(add.Input[0], "ReduceMean") ?? P(add.Input[1], "ReduceMean");
        if (variance is null || !LastAxis(variance)) return false;
        var pow = P(variance.Input[0], "Pow");
        return pow is not null && pow.Input[0] == sub.Output[0];
    }

    /// <summary>axes = [-1] as an attribute (opset &lt; 18); reductions given axes as an input are accepted as torch emits them.</summary>
    private static bool LastAxis(NodeProto reduce)
    {
        var axes = reduce.Attribute.FirstOrDefault(a => a.Name == "axes");
        if (axes is not null) return axes.Ints.Count == 1 && axes.Ints[0] == -1;
        return reduce.Input.Count > 1;
    }

    private static long Int(NodeProto n, string name, long fallback) => n.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;
    private static float Float(NodeProto n, string name, float fallback) => n.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;
}
