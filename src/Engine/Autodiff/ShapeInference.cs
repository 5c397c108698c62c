using Onnx;
using static Amalgam.Engine.Autodiff.ShapeMath;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Autodiff;

/// <summary>
/// Static shape inference for the ops the gradient builder handles, and evaluation of small
/// constant values (the Shape/Gather/Concat/Unsqueeze/... arithmetic torch exports use to compute
/// Reshape targets), so every shape in the graph is a number when the backward graph is written.
/// </summary>
internal static partial class ShapeInference
{
    /// <summary>Infers the outputs of <paramref name="node"/> and records them in <paramref name="meta"/>.</summary>
    public static void Infer(NodeProto node, Dictionary<string, ValueMeta> meta, int opset)
    {
        string where = node.Describe();
        if (node.Domain is not ("" or "ai.onnx"))
            throw new UnsupportedOpException($"{where}: op '{node.Domain}.{node.OpType}' is not a standard ONNX op; the gradient builder supports only those");
        ValueMeta? In(int i) => i < node.Input.Count && node.Input[i].Length > 0
            ? meta.TryGetValue(node.Input[i], out var m) ? m : throw new InvalidOperationException($"{where}: input '{node.Input[i]}' is not known")
            : null;
        ValueMeta X = node.Input.Count > 0 ? In(0)! : null!;
        ValueMeta[] outs = InferOutputs(node, X, In, opset, where);
        for (int i = 0; i < outs.Length && i < node.Output.Count; i++)
            if (node.Output[i].Length > 0) meta[node.Output[i]] = outs[i];
    }

    private static ValueMeta[] InferOutputs(NodeProto node, ValueMeta X, Func<int, ValueMeta?> In, int opset, string where)
    {
        switch (node.OpType)
        {
            case "Identity": return [X];
            case "Constant": return [ConstantNode(node, where)];
            case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Mod":
                return [Binary(node.OpType, In(0)!, In(1)!, X.ElemType, where)];
            case "Equal" or "Less" or "Greater" or "And" or "Or":
                return [Binary(node.OpType, In(0)!, In(1)!, (int)DataType.Bool, where)];
            case "Where":
            {
                var (c, a, b) = (In(0)!, In(1)!, In(2)!);
                var shape = Broadcast(where, c.Shape, a.Shape, b.Shape);
                ConstValue? v = null;
                if (c.Value is { } cv && a.Value is { } av && b.Value is { } bv && Count(shape) <= ConstValue.MaxElements)
                    v = ConstValue.Make(a.ElemType, shape,
                        i => cv.Int(Index(i, shape, c.Shape)) != 0 ? av.Float(Index(i, shape, a.Shape)) : bv.Float(Index(i, shape, b.Shape)),
                        i => cv.Int(Index(i, shape, c.Shape)) != 0 ? av.Int(Index(i, shape, a.Shape)) : bv.Int(Index(i, shape, b.Shape)));
                return [new(a.ElemType, shape, v)];
            }
            case "Not":
                return [X with { Value = X.Value is { } nv ? ConstValue.Make(X.ElemType, X.Shape, _ => 0, i => nv.Int(i) == 0 ? 1 : 0) : null }];
            case "Neg":
                return [X with { Value = X.Value is { } ng ? ConstValue.Make(X.ElemType, X.Shape, i => -ng.Float(i), i => -ng.Int(i)) : null }];
            case "Sqrt" or "Erf" or "Tanh" or "Sigmoid" or "Relu" or "Exp" or "Log" or "Softmax" or "LogSoftmax" or "CumSum" or "Abs":
                return [X with { Value = null }];
            case "Cast":
            {
                int to = (int)node.Int("to", 0);
                ConstValue? v = X.Value is { } cv ? ConstValue.Make(to, X.Shape, cv.Float, i => cv.IsFloat ? (long)cv.Float(i) : cv.Int(i)) : null;
                return [new(to, X.Shape, v)];
            }
            case "Shape":
            {
                int r = X.Rank;
                int start = (int)Math.Clamp(Norm(node.Int("start", 0), r), 0, r), end = (int)Math.Clamp(Norm(node.Int("end", r), r), 0, r);
                var dims = X.Shape[start..Math.Max(start, end)];
                return [new((int)DataType.Int64, [dims.Length], ConstValue.OfInts(dims))];
            }
            case "ConstantOfShape":
            {
                var shape = Need(In(0)!, where, "shape").AsInts();
                var value = node.Find("value") is { } a ? ConstValue.FromTensor(a.T)! : new ConstValue((int)DataType.Float, [1], null, [0.0]);
                ConstValue? v = Count(shape) <= ConstValue.MaxElements ? ConstValue.Make(value.ElemType, shape, _ => value.Float(0), _ => value.Int(0)) : null;
                return [new(value.ElemType, shape, v)];
            }
            case "Range":
            {
                var (s, l, d) = (Need(In(0)!, where, "start"), Need(In(1)!, where, "limit"), Need(In(2)!, where, "delta"));
                long n = Math.Max((long)Math.Ceiling((l.Float(0) - s.Float(0)) / d.Float(0)), 0);
                return [new(X.ElemType, [n], n > ConstValue.MaxElements ? null
                    : ConstValue.Make(X.ElemType, [n], i => s.Float(0) + i * d.Float(0), i => s.Int(0) + i * d.Int(0)))];
            }
            case "MatMul": return [MatMulShape(In(0)!, In(1)!, where)];
            case "Gemm":
            {
                var (a, b) = (In(0)!, In(1)!);
                bool ta = node.Int("transA", 0) != 0, tb = node.Int("transB", 0) != 0;
                if (a.Rank != 2 || b.Rank != 2 || (ta ? a.Shape[0] : a.Shape[1]) != (tb ? b.Shape[1] : b.Shape[0]))
                    throw new InvalidOperationException($"{where}: cannot multiply {Format(a.Shape)} by {Format(b.Shape)} (transA {(ta ? 1 : 0)}, transB {(tb ? 1 : 0)})");
                long m = ta ? a.Shape[1] : a.Shape[0];
                long n = tb ? b.Shape[0] : b.Shape[1];
                return [new(a.ElemType, [m, n])];
            }
            case "Conv": return [ConvShape(node, In(0)!, In(1)!, where)];
            case "LayerNormalization":
            {
                int axis = Axis(node.Int("axis", -1), X.Rank, where);
                var stat = X.Shape.Select((d, i) => i < axis ? d : 1).ToArray();
                int stash = (int)node.Int("stash_type", (int)DataType.Float);
                return [X with { Value = null }, new(stash, stat), new(stash, stat)];
            }
            case "ReduceSum" or "ReduceMean" or "ReduceMax":
            {
                var (axes, keep) = ReduceAxes(node, In, X.Rank, opset, where);
                var shape = ReducedShape(X.Shape, axes, keep);
                return [new(X.ElemType, shape)];
            }
            case "ArgMax":
            {
                int axis = Axis(node.Int("axis", 0), X.Rank, where);
                return [new((int)DataType.Int64, ReducedShape(X.Shape, [axis], node.Int("keepdims", 1) != 0))];
            }
            default:
                return ShapeOps(node, X, In, opset, where);
        }
    }

    internal static (int[] Axes, bool Keep) ReduceAxes(NodeProto node, Func<int, ValueMeta?> In, int rank, int opset, string where)
    {
        bool axesAsInput = node.OpType == "ReduceSum" ? opset >= 13 : opset >= 18;
        long[]? axes = axesAsInput ? (In(1) is { } a ? Need(a, where, "axes").AsInts() : null) : node.Ints("axes");
        if (axes is null || axes.Length == 0)
            axes = node.Int("noop_with_empty_axes", 0) != 0 ? [] : Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        return (axes.Select(a => Axis(a, rank, where)).Distinct().Order().ToArray(), node.Int("keepdims", 1) != 0);
    }

    internal static long[] ReducedShape(long[] shape, int[] axes, bool keep) =>
        keep ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray() : shape.Where((_, i) => !axes.Contains(i)).ToArray();

    private static ValueMeta ConstantNode(NodeProto node, string where)
    {
        var a = node.Attribute.Count == 1 ? node.Attribute[0] : throw new InvalidOperationException($"{where}: expected one attribute");
        ConstValue? v = a.Name switch
        {
            "value" => ConstValue.FromTensor(a.T),
            "value_float" => new((int)DataType.Float, [], null, [a.F]),
            "value_floats" => new((int)DataType.Float, [a.Floats.Count], null, a.Floats.Select(f => (double)f).ToArray()),
            "value_int" => new((int)DataType.Int64, [], [a.I], null),
            "value_ints" => ConstValue.OfInts(a.Ints.ToArray()),
            _ => throw new InvalidOperationException($"{where}: attribute '{a.Name}' is not supported"),
        };
        if (v is null && a.Name == "value") return new(a.T.DataType, a.T.Dims.ToArray());
        return new(v!.ElemType, v.Shape, v);
    }

    private static ValueMeta Binary(string op, ValueMeta a, ValueMeta b, int outType, string where)
    {
        var shape = Broadcast(where, a.Shape, b.Shape);
        ConstValue? v = null;
        if (a.Value is { } av && b.Value is { } bv && Count(shape) <= ConstValue.MaxElements)
        {
            Func<int, double> f = i => (op, x: av.Float(Index(i, shape, a.Shape)), y: bv.Float(Index(i, shape, b.Shape))) switch
            {
                ("Add", var x, var y) => x + y, ("Sub", var x, var y) => x - y, ("Mul", var x, var y) => x * y,
                ("Div", var x, var y) => x / y, ("Pow", var x, var y) => Math.Pow(x, y),
                ("Equal", var x, var y) => x == y ? 1 : 0, ("Less", var x, var y) => x < y ? 1 : 0, ("Greater", var x, var y) => x > y ? 1 : 0,
                _ => double.NaN,
            };
            Func<int, long> g = i => (op, x: av.Int(Index(i, shape, a.Shape)), y: bv.Int(Index(i, shape, b.Shape))) switch
            {
                ("Add", var x, var y) => x + y, ("Sub", var x, var y) => x - y, ("Mul", var x, var y) => x * y,
                ("Div", var x, var y) => y == 0 ? 0 : x / y, ("Mod", var x, var y) => y == 0 ? 0 : ((x % y) + y) % y,
                ("Equal", var x, var y) => x == y ? 1 : 0, ("Less", var x, var y) => x < y ? 1 : 0, ("Greater", var x, var y) => x > y ? 1 : 0,
                ("And", var x, var y) => x != 0 && y != 0 ? 1 : 0, ("Or", var x, var y) => x != 0 || y != 0 ? 1 : 0,
                ("Pow", var x, var y) => (long)Math.Pow(x, y), _ => 0,
            };
            bool floatOps = av.IsFloat || bv.IsFloat;
            v = ConstValue.IsFloatType(outType)
                ? ConstValue.Make(outType, shape, f, _ => 0)
                : ConstValue.Make(outType, shape, _ => 0, i => floatOps ? (long)f(i) : g(i));
        }
        return new(outType, shape, v);
    }

    private static ValueMeta MatMulShape(ValueMeta a, ValueMeta b, string where)
    {
        long[] sa = a.Rank == 1 ? [1, a.Shape[0]] : a.Shape, sb = b.Rank == 1 ? [b.Shape[0], 1] : b.Shape;
        if (sa[^1] != sb[^2]) throw new InvalidOperationException($"{where}: cannot multiply {Format(a.Shape)} by {Format(b.Shape)}");
        var batch = Broadcast(where, sa[..^2], sb[..^2]).ToList();
        if (a.Rank > 1) batch.Add(sa[^2]);
        if (b.Rank > 1) batch.Add(sb[^1]);
        return new(a.ElemType, batch.ToArray());
    }

    private static ValueMeta ConvShape(NodeProto node, ValueMeta x, ValueMeta w, string where)
    {
        int spatial = x.Rank - 2;
        var p = ConvParams.Of(node, spatial, w.Shape, where);
        var shape = new long[x.Rank];
        shape[0] = x.Shape[0];
        shape[1] = w.Shape[0];
        for (int i = 0; i < spatial; i++)
            shape[i + 2] = (x.Shape[i + 2] + p.Pads[i] + p.Pads[i + spatial] - ((w.Shape[i + 2] - 1) * p.Dilations[i] + 1)) / p.Strides[i] + 1;
        return new(x.ElemType, shape);
    }

    internal static ConstValue Need(ValueMeta? m, string where, string what) =>
        m is null ? throw new InvalidOperationException($"{where}: input '{what}' is missing") :
        m.Value ?? throw new InvalidOperationException($"{where}: '{what}' must be known while building the graph (computed from shapes or constants only)");

    internal static long Norm(long axis, int rank) => axis < 0 ? axis + rank : axis;

    internal static long Count(long[] shape) => Product(shape);

    /// <summary>Flat index into a broadcast operand of shape <paramref name="src"/> for flat index
    /// <paramref name="i"/> of the broadcast result of shape <paramref name="shape"/>.</summary>
    internal static int Index(int i, long[] shape, long[] src)
    {
        long idx = 0, stride = 1;
        for (int d = shape.Length - 1, s = src.Length - 1; d >= 0; d--, s--)
        {
            long coord = i % shape[d];
            i = (int)(i / shape[d]);
            if (s >= 0)
            {
                if (src[s] != 1) idx += coord * stride;
                stride *= src[s];
            }
        }
        return (int)idx;
    }
}

/// <summary>Conv attributes with defaults filled in (auto_pad NOTSET or VALID).</summary>
internal sealed record ConvParams(long[] Strides, long[] Pads, long[] Dilations, long Group)
{
    public static ConvParams Of(NodeProto node, int spatial, long[] wShape, string where)
    {
        string autoPad = node.Str("auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID")) throw new InvalidOperationException($"{where}: auto_pad {autoPad} is not supported");
        long[] ones = Enumerable.Repeat(1L, spatial).ToArray();
        var p = new ConvParams(node.Ints("strides") ?? ones, autoPad == "VALID" ? new long[2 * spatial] : node.Ints("pads") ?? new long[2 * spatial],
            node.Ints("dilations") ?? ones, node.Int("group", 1));
        if (spatial < 1 || wShape.Length != spatial + 2 || p.Strides.Length != spatial || p.Dilations.Length != spatial || p.Pads.Length != 2 * spatial)
            throw new InvalidOperationException($"{where}: strides, pads, dilations or the weight's rank do not fit {spatial} spatial axes");
        return p;
    }
}
