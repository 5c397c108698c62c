using Onnx;
using static Amalgam.Engine.Autodiff.ShapeMath;

namespace Amalgam.Engine.Autodiff;

internal static partial class ShapeInference
{
    /// <summary>Ops that move or select elements: shape (and constant values) of the result.</summary>
    private static ValueMeta[] ShapeOps(NodeProto node, ValueMeta X, Func<int, ValueMeta?> In, int opset, string where)
    {
        switch (node.OpType)
        {
            case "Reshape":
            {
                var target = Need(In(1)!, where, "shape").AsInts();
                var shape = ReshapeTarget(X.Shape, target, node.Int("allowzero", 0) != 0, where);
                return [Relayout(X, shape, i => i)];
            }
            case "Flatten":
            {
                int axis = (int)Norm(node.Int("axis", 1), X.Rank);
                return [Relayout(X, [Product(X.Shape[..axis]), Product(X.Shape[axis..])], i => i)];
            }
            case "Squeeze":
            {
                long[]? axes = opset >= 13 ? In(1) is { } a ? Need(a, where, "axes").AsInts() : null : node.Ints("axes");
                var drop = axes is null ? Enumerable.Range(0, X.Rank).Where(i => X.Shape[i] == 1).ToHashSet()
                    : axes.Select(a => Axis(a, X.Rank, where)).ToHashSet();
                return [Relayout(X, X.Shape.Where((_, i) => !drop.Contains(i)).ToArray(), i => i)];
            }
            case "Unsqueeze":
            {
                long[] axes = (opset >= 13 ? Need(In(1)!, where, "axes").AsInts() : node.Ints("axes")) ?? [];
                int rank = X.Rank + axes.Length;
                var ins = axes.Select(a => Axis(a, rank, where)).ToHashSet();
                var shape = new long[rank];
                for (int i = 0, j = 0; i < rank; i++) shape[i] = ins.Contains(i) ? 1 : X.Shape[j++];
                return [Relayout(X, shape, i => i)];
            }
            case "Transpose":
            {
                var perm = node.Ints("perm") ?? Enumerable.Range(0, X.Rank).Reverse().Select(i => (long)i).ToArray();
                var shape = perm.Select(p => X.Shape[p]).ToArray();
                return [Relayout(X, shape, i => Index(TransposeSource(i, shape, perm), X.Shape, X.Shape))];
            }
            case "Expand":
            {
                var target = Need(In(1)!, where, "shape").AsInts();
                var shape = Broadcast(where, X.Shape, target);
                return [Relayout(X, shape, i => Index(i, shape, X.Shape))];
            }
            case "Concat":
            {
                var parts = Enumerable.Range(0, node.Input.Count).Select(i => In(i)!).ToArray();
                int axis = Axis(node.Int("axis", 0), X.Rank, where);
                var shape = (long[])X.Shape.Clone();
                shape[axis] = parts.Sum(p => p.Shape[axis]);
                ConstValue? v = null;
                if (parts.All(p => p.Value is not null) && Count(shape) <= ConstValue.MaxElements && X.Rank == 1)
                    v = ConstValue.Make(X.ElemType, shape, FlatConcat<double>(parts, p => p.Value!.Float), FlatConcat<long>(parts, p => p.Value!.Int));
                return [new(X.ElemType, shape, v)];
            }
            case "Split":
            {
                int axis = Axis(node.Int("axis", 0), X.Rank, where);
                var sizes = SplitSizes(node, X, In, axis, opset, where);
                return sizes.Select(s => { var sh = (long[])X.Shape.Clone(); sh[axis] = s; return new ValueMeta(X.ElemType, sh); }).ToArray();
            }
            case "Slice":
            {
                var sl = SliceSpec.Of(node, X.Shape, In, where);
                var shape = sl.OutputShape(X.Shape);
                return [Relayout(X, shape, i => sl.SourceIndex(i, shape, X.Shape))];
            }
            case "Gather":
            {
                var idx = In(1)!;
                int axis = Axis(node.Int("axis", 0), X.Rank, where);
                var shape = X.Shape[..axis].Concat(idx.Shape).Concat(X.Shape[(axis + 1)..]).ToArray();
                ConstValue? v = null;
                if (X.Value is { } xv && idx.Value is { } iv && Count(shape) <= ConstValue.MaxElements)
                {
                    long inner = Product(X.Shape[(axis + 1)..]), n = Count(idx.Shape), dim = X.Shape[axis];
                    int Src(int i)
                    {
                        long outer = i / (n * inner), k = i / inner % n, r = i % inner;
                        long j = iv.Int((int)k);
                        if (j < 0) j += dim;
                        if (j < 0 || j >= dim) throw new InvalidOperationException($"{where}: index {iv.Int((int)k)} is out of range for a dimension of {dim}");
                        return (int)((outer * dim + j) * inner + r);
                    }
                    v = ConstValue.Make(X.ElemType, shape, i => xv.Float(Src(i)), i => xv.Int(Src(i)));
                }
                return [new(X.ElemType, shape, v)];
            }
            default:
                throw new UnsupportedOpException($"{where}: op '{node.OpType}' is not supported by the gradient builder (no shape inference)");
        }
    }

    /// <summary>Same elements (or a rearrangement) in a new shape; the constant value follows when known.</summary>
    private static ValueMeta Relayout(ValueMeta x, long[] shape, Func<int, int> source)
    {
        ConstValue? v = x.Value is { } xv && Count(shape) <= ConstValue.MaxElements
            ? ConstValue.Make(x.ElemType, shape, i => xv.Float(source(i)), i => xv.Int(source(i)))
            : null;
        return new(x.ElemType, shape, v);
    }

    private static Func<int, T> FlatConcat<T>(ValueMeta[] parts, Func<ValueMeta, Func<int, T>> get) => i =>
    {
        foreach (var p in parts)
        {
            if (i < p.Count) return get(p)(i);
            i -= (int)p.Count;
        }
        throw new IndexOutOfRangeException();
    };

    private static int TransposeSource(int i, long[] outShape, long[] perm)
    {
        var coords = new long[outShape.Length];
        for (int d = outShape.Length - 1; d >= 0; d--) { coords[d] = i % outShape[d]; i = (int)(i / outShape[d]); }
        var src = new long[perm.Length];
        for (int d = 0; d < perm.Length; d++) src[perm[d]] = coords[d];
        var srcShape = new long[perm.Length];
        for (int d = 0; d < perm.Length; d++) srcShape[perm[d]] = outShape[d];
        long flat = 0;
        for (int d = 0; d < perm.Length; d++) flat = flat * srcShape[d] + src[d];
        return (int)flat;
    }

    internal static long[] ReshapeTarget(long[] input, long[] target, bool allowZero, string where)
    {
        var shape = target.Select((d, i) => d == 0 && !allowZero ? input[i] : d).ToArray();
        int unknown = Array.IndexOf(shape, -1L);
        if (unknown >= 0)
        {
            long known = Product(shape.Where((_, i) => i != unknown));
            shape[unknown] = known == 0 ? 0 : Product(input) / known;
        }
        if (Product(shape) != Product(input)) throw new InvalidOperationException($"{where}: cannot reshape {Format(input)} to {Format(target)}");
        return shape;
    }

    internal static long[] SplitSizes(NodeProto node, ValueMeta x, Func<int, ValueMeta?> In, int axis, int opset, string where)
    {
        long[]? sizes = opset >= 13 ? (In(1) is { } s ? Need(s, where, "split").AsInts() : null) : node.Ints("split");
        if (sizes is not null) return sizes;
        int n = node.Find("num_outputs") is { } a ? (int)a.I : node.Output.Count;
        long dim = x.Shape[axis], chunk = (dim + n - 1) / n;
        return Enumerable.Range(0, n).Select(i => Math.Min(chunk, dim - i * chunk)).ToArray();
    }
}

/// <summary>A Slice resolved against a static input shape: per axis, start and step (ends clamped).</summary>
internal sealed record SliceSpec(long[] Starts, long[] Counts, long[] Steps)
{
    public static SliceSpec Of(NodeProto node, long[] shape, Func<int, ValueMeta?> In, string where)
    {
        var starts = ShapeInference.Need(In(1)!, where, "starts").AsInts();
        var ends = ShapeInference.Need(In(2)!, where, "ends").AsInts();
        var axes = In(3) is { } a ? ShapeInference.Need(a, where, "axes").AsInts() : Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        var steps = In(4) is { } s ? ShapeInference.Need(s, where, "steps").AsInts() : Enumerable.Repeat(1L, starts.Length).ToArray();
        int rank = shape.Length;
        var st = new long[rank];
        var cnt = (long[])shape.Clone();
        var sp = Enumerable.Repeat(1L, rank).ToArray();
        for (int k = 0; k < axes.Length; k++)
        {
            int ax = ShapeMath.Axis(axes[k], rank, where);
            long dim = shape[ax], step = steps[k];
            if (step == 0) throw new InvalidOperationException($"{where}: step 0");
            long b = starts[k] < 0 ? starts[k] + dim : starts[k], e = ends[k] < 0 ? ends[k] + dim : ends[k];
            if (ends[k] > dim) e = dim;
            if (step > 0) { b = Math.Clamp(b, 0, dim); e = Math.Clamp(e, 0, dim); cnt[ax] = Math.Max(0, (e - b + step - 1) / step); }
            else { b = Math.Clamp(b, 0, dim - 1); e = Math.Clamp(e, -1, dim - 1); cnt[ax] = Math.Max(0, (b - e - step - 1) / -step); }
            st[ax] = b;
            sp[ax] = step;
        }
        return new(st, cnt, sp);
    }

    public long[] OutputShape(long[] _) => Counts;

    public int SourceIndex(int i, long[] outShape, long[] inShape)
    {
        long flat = 0, stride = 1;
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            long c = i % outShape[d];
            i = (int)(i / outShape[d]);
            flat += (Starts[d] + c * Steps[d]) * stride;
            stride *= inShape[d];
        }
        return (int)flat;
    }
}
