using Onnx;

namespace Amalgam.Engine.Autodiff;

/// <summary>Typed reads of a node's attributes with defaults.</summary>
internal static class NodeAttributes
{
    public static AttributeProto? Find(this NodeProto node, string name)
    {
        foreach (var a in node.Attribute) if (a.Name == name) return a;
        return null;
    }

    public static long Int(this NodeProto node, string name, long fallback) => node.Find(name) is { } a ? a.I : fallback;

    public static float Float(this NodeProto node, string name, float fallback) => node.Find(name) is { } a ? a.F : fallback;

    public static long[]? Ints(this NodeProto node, string name) => node.Find(name) is { } a ? a.Ints.ToArray() : null;

    public static string Str(this NodeProto node, string name, string fallback) =>
        node.Find(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public static string Describe(this NodeProto node) =>
        $"{node.OpType} node '{(node.Name.Length > 0 ? node.Name : string.Join(",", node.Output))}'";

    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Attr(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attr(string name, TensorProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };
}
