using static Amalgam.Engine.Autodiff.NodeAttributes;

namespace Amalgam.Engine.Autodiff;

/// <summary>Backward steps of ops that move or select elements.</summary>
internal static class ShapeRules
{
    public static void Register(Dictionary<string, GradientRule> t)
    {
        foreach (var op in new[] { "Reshape", "Flatten", "Squeeze", "Unsqueeze" })
            t[op] = c => c.Set(0, () => c.E.Reshape(c.DY, c.InShape(0)));
        t["Transpose"] = c => c.Set(0, () =>
        {
            int r = c.InShape(0).Length;
            var perm = c.Node.Ints("perm") ?? Enumerable.Range(0, r).Reverse().Select(i => (long)i).ToArray();
            var inverse = new long[r];
            for (int i = 0; i < r; i++) inverse[perm[i]] = i;
            return c.E.Transpose(c.DY, inverse);
        });
        t["Expand"] = c => c.SetBroadcast(0, () => c.DY);
        t["Concat"] = Concat;
        t["Split"] = Split;
        t["Slice"] = Slice;
        t["Gather"] = Gather;
    }

    private static void Concat(RuleContext c)
    {
        int axis = ShapeMath.Axis(c.Node.Int("axis", 0), c.OutShape().Length, c.Where);
        var sizes = Enumerable.Range(0, c.Node.Input.Count).Select(i => c.InShape(i)[axis]).ToArray();
        string[]? parts = null;
        for (int i = 0; i < sizes.Length; i++)
            c.Set(i, () => (parts ??= c.E.Split(c.DY, axis, sizes))[i]);
    }

    /// <summary>dX = the output gradients concatenated, with zeros for outputs no gradient reached.</summary>
    private static void Split(RuleContext c)
    {
        int axis = ShapeMath.Axis(c.Node.Int("axis", 0), c.InShape(0).Length, c.Where);
        c.Set(0, () =>
        {
            var parts = c.OutGrad.Select((g, i) => g ?? c.E.Zeros(c.OutShape(i))).ToArray();
            return c.E.Node("Concat", parts, Attr("axis", (long)axis));
        });
    }

    /// <summary>dX = dY padded with zeros back to X's shape (unit steps only).</summary>
    private static void Slice(RuleContext c)
    {
        long[] xs = c.InShape(0);
        var spec = SliceSpec.Of(c.Node, xs, i => c.InMeta.Length > i ? c.InMeta[i] : null, c.Where);
        if (!c.Need[0]) return;
        if (spec.Steps.Any(s => s != 1)) throw c.Unsupported("the gradient of a Slice with a step other than 1");
        var cut = Enumerable.Range(0, xs.Length).Where(i => spec.Counts[i] != xs[i]).ToArray();
        if (cut.Length == 1)
        {
            c.InPiece[0] = new SlicePiece(c.DY, cut[0], spec.Starts[cut[0]], spec.Counts[cut[0]], xs);
            return;
        }
        c.Set(0, () =>
        {
            long[] pads = [.. spec.Starts, .. xs.Select((d, i) => d - spec.Starts[i] - spec.Counts[i])];
            return c.E.Node("Pad", [c.DY, c.E.Ints(pads)]);
        });
    }

    /// <summary>
    /// Y = Gather(X, idx, axis): dX[a, v, b] = sum_k [idx_k == v] dY[a, k, b]. From opset 16 one
    /// ScatterElements with reduction "add" into zeros (indices broadcast over the other axes; ONNX
    /// Runtime's CPU kernel adds in index order, so it is deterministic and needs no [n, V] one-hot,
    /// which a 50k-token vocabulary could not afford). Before 16: a one-hot matrix [n, V] (indices
    /// wrapped into [0, V), compared with 0..V-1) times dY, one (batched) matrix product.
    /// </summary>
    private static void Gather(RuleContext c)
    {
        long[] xs = c.InShape(0), idxShape = c.InShape(1);
        int axis = ShapeMath.Axis(c.Node.Int("axis", 0), xs.Length, c.Where);
        long v = xs[axis], outer = ShapeMath.Product(xs[..axis]), inner = ShapeMath.Product(xs[(axis + 1)..]);
        long n = ShapeMath.Product(idxShape);
        c.Set(0, () =>
        {
            var e = c.E;
            const int int64 = (int)Onnx.TensorProto.Types.DataType.Int64;
            string idx = c.InMeta[1]!.ElemType == int64 ? c.X(1) : e.Cast(c.X(1), int64);
            if (e.Opset >= 16)
            {
                long[] updates = [.. xs[..axis], n, .. xs[(axis + 1)..]];
                long[] column = updates.Select((d, i) => i == axis ? n : 1L).ToArray();
                string spread = e.Expand(e.Reshape(idx, column), updates);
                return e.Node("ScatterElements", [e.Zeros(xs), spread, e.Reshape(c.DY, updates)],
                    Attr("axis", (long)axis), Attr("reduction", "add"));
            }
            idx = e.Reshape(idx, [n, 1]);
            idx = e.Node("Mod", [e.Add(idx, e.Ints(v)), e.Ints(v)]);
            string range = e.Constant(ConstValue.OfInts(Enumerable.Range(0, (int)v).Select(i => (long)i).ToArray(), [1, v]), "range");
            string onehot = e.Cast(e.Node("Equal", [idx, range]), e.FloatType);
            string g;
            if (outer == 1)
                g = e.Node("Gemm", [onehot, e.Reshape(c.DY, [n, inner])], Attr("transA", 1L));
            else
                g = e.Node("MatMul", [e.Transpose(onehot, [1, 0]), e.Reshape(c.DY, [outer, n, inner])]);
            return e.Reshape(g, xs);
        });
    }
}
