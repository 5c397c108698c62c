using Onnx;

namespace Amalgam.Engine.Autodiff;

/// <summary>
/// The layer norm torch exports before opset 17, n = (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps),
/// written as ReduceMean, Sub, Pow(2), ReduceMean, Add, Sqrt, Div. Differentiated node by node it
/// costs about twenty backward nodes; recognised as a whole (when its intermediates feed nothing
/// else), dx = (g - mean(g) - n * mean(g * n)) / s with g = dn and s the Sqrt output: seven.
/// </summary>
internal static class DecomposedLayerNorm
{
    /// <summary>The pattern ending at <paramref name="div"/>: its input x and the reduced axes; null if it does not match.</summary>
    public static (string X, long[] Axes)? Match(NodeProto div, Dictionary<string, NodeProto> producers,
        Dictionary<string, int> consumers, Dictionary<string, ValueMeta> meta, int opset)
    {
        if (div.OpType != "Div" || div.Input.Count != 2) return null;
        var sub = Producer(div.Input[0], "Sub", producers);
        var sqrt = Producer(div.Input[1], "Sqrt", producers);
        if (sub is null || sqrt is null) return null;
        var mean = Producer(sub.Input[1], "ReduceMean", producers);
        var add = Producer(sqrt.Input[0], "Add", producers);
        if (mean is null || add is null || mean.Input[0] != sub.Input[0]) return null;
        string x = sub.Input[0];
        int vi = producers.TryGetValue(add.Input[0], out var a0) && a0.OpType == "ReduceMean" ? 0 : 1;
        var variance = Producer(add.Input[vi], "ReduceMean", producers);
        if (variance is null || !IsConstant(meta, add.Input[1 - vi])) return null;
        var pow = Producer(variance.Input[0], "Pow", producers);
        if (pow is null || pow.Input[0] != div.Input[0] || meta[pow.Input[1]].Value is not { Count: 1 } e || e.Float(0) != 2) return null;

        int rank = meta[x].Rank;
        var (axes, keep) = Axes(mean, meta, rank, opset);
        var (axes2, keep2) = Axes(variance, meta, rank, opset);
        if (!keep || !keep2 || !axes.SequenceEqual(axes2)) return null;
        if (!meta[x].Shape.SequenceEqual(meta[div.Output[0]].Shape)) return null;

        // Every intermediate must feed only the pattern, so no gradient reaches it from elsewhere.
        bool Only(string v, int n) => consumers.TryGetValue(v, out var c) && c == n;
        if (!Only(mean.Output[0], 1) || !Only(sub.Output[0], 2) || !Only(pow.Output[0], 1) || !Only(variance.Output[0], 1)
            || !Only(add.Output[0], 1) || !Only(sqrt.Output[0], 1))
            return null;
        return (x, axes.Select(a => (long)a).ToArray());
    }

    /// <summary>dx for the matched pattern: (g - mean(g) - n * mean(g * n)) / s.</summary>
    public static string Gradient(GraphEmitter e, NodeProto div, string dn, long[] axes)
    {
        string n = div.Output[0], s = div.Input[1];
        string m1 = e.ReduceMean(dn, axes, true);
        string m2 = e.ReduceMean(e.Mul(dn, n), axes, true);
        return e.Div(e.Sub(e.Sub(dn, m1), e.Mul(n, m2)), s);
    }

    private static (int[] Axes, bool Keep) Axes(NodeProto reduce, Dictionary<string, ValueMeta> meta, int rank, int opset) =>
        ShapeInference.ReduceAxes(reduce, i => i < reduce.Input.Count && reduce.Input[i].Length > 0 ? meta[reduce.Input[i]] : null, rank, opset, reduce.Describe());

    private static bool IsConstant(Dictionary<string, ValueMeta> meta, string name) => meta.TryGetValue(name, out var m) && m.Value is not null;

    private static NodeProto? Producer(string value, string op, Dictionary<string, NodeProto> producers) =>
        producers.TryGetValue(value, out var n) && n.OpType == op ? n : null;
}
