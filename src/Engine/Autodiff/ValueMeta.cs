namespace Amalgam.Engine.Autodiff;

/// <summary>What the builder knows about a value: element type (ONNX code), static shape, and its
/// values when they are known while building (shape arithmetic).</summary>
internal sealed record ValueMeta(int ElemType, long[] Shape, ConstValue? Value = null)
{
    public int Rank => Shape.Length;
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
    public bool IsFloat => ConstValue.IsFloatType(ElemType);
}

/// <summary>Shape helpers (numpy broadcasting, axis normalisation).</summary>
internal static class ShapeMath
{
    public static long[] Broadcast(string where, params long[][] shapes)
    {
        int rank = shapes.Max(s => s.Length);
        var result = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long d = 1;
            foreach (var s in shapes)
            {
                int j = i - (rank - s.Length);
                if (j < 0 || s[j] == 1) continue;
                if (d != 1 && d != s[j]) throw new InvalidOperationException($"{where}: shapes {string.Join(" ", shapes.Select(Format))} do not broadcast");
                d = s[j];
            }
            result[i] = d;
        }
        return result;
    }

    public static int Axis(long axis, int rank, string where)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new InvalidOperationException($"{where}: axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    public static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, b) => a * b);

    public static string Format(long[] s) => "[" + string.Join(",", s) + "]";

    /// <summary>Axes that a gradient of shape <paramref name="from"/> must be summed over to get back a
    /// broadcast operand of shape <paramref name="to"/> (with keepdims, before a final reshape).</summary>
    public static long[] BroadcastAxes(long[] from, long[] to)
    {
        var axes = new List<long>();
        int lead = from.Length - to.Length;
        for (int i = 0; i < from.Length; i++)
            if (i < lead || (to[i - lead] == 1 && from[i] != 1)) axes.Add(i);
        return axes.ToArray();
    }
}
