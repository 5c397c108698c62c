using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>Node attribute values as text, for structural comparison and its messages.</summary>
internal static class AttributeFormat
{
    private const int MaxShown = 80;

    /// <summary>The complete value as text; tensors and graphs by their type and shape only
    /// (see <see cref="TensorsEqual"/>; subgraphs are compared node by node).</summary>
    public static string Value(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Float => Float(a.F),
        AttributeProto.Types.AttributeType.Int => a.I.ToString(CultureInfo.InvariantCulture),
        AttributeProto.Types.AttributeType.String => Text(a.S),
        AttributeProto.Types.AttributeType.Tensor => Tensor(a.T),
        AttributeProto.Types.AttributeType.Graph => "graph",
        AttributeProto.Types.AttributeType.Floats => List(a.Floats.Select(Float)),
        AttributeProto.Types.AttributeType.Ints => List(a.Ints.Select(i => i.ToString(CultureInfo.InvariantCulture))),
        AttributeProto.Types.AttributeType.Strings => List(a.Strings.Select(Text)),
        AttributeProto.Types.AttributeType.Tensors => List(a.Tensors.Select(Tensor)),
        AttributeProto.Types.AttributeType.Graphs => $"{a.Graphs.Count} graphs",
        // Sparse tensors, type protos and unknown kinds: the protobuf text is exact.
        _ => a.Clone().Also(c => { c.Name = ""; c.DocString = ""; }).ToString(),
    };

    /// <summary>Tensor-valued attributes hold the same values (same element type, dims and contents).</summary>
    public static bool TensorsEqual(AttributeProto a, AttributeProto b)
    {
        if (!SameTensor(a.T, b.T)) return false;
        if (a.Tensors.Count != b.Tensors.Count) return false;
        for (int i = 0; i < a.Tensors.Count; i++)
            if (!SameTensor(a.Tensors[i], b.Tensors[i])) return false;
        return true;
    }

    public static string Shorten(string s) => s.Length <= MaxShown ? s : s[..(MaxShown - 3)] + "...";

    private static bool SameTensor(TensorProto? a, TensorProto? b)
    {
        if (a is null || b is null) return a is null && b is null;
        // Compare everything but the name and doc string (exporters number constants differently).
        var ca = a.Clone();
        var cb = b.Clone();
        ca.ClearName(); cb.ClearName();
        ca.ClearDocString(); cb.ClearDocString();
        return ca.Equals(cb);
    }

    private static string Tensor(TensorProto? t) =>
        t is null ? "(no tensor)" : $"tensor {OnnxDTypes.OnnxName(t.DataType)} {OnnxModelComparer.FormatDims(t.Dims)}";

    private static string Float(float f) => f.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(ByteString s) => "'" + s.ToStringUtf8() + "'";

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items) + "]";

    private static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
