using Amalgam.Kernels;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>An initializer (stored weight) of the main graph: name, element type, shape, storage.</summary>
/// <param name="DType">Our dtype, or null for an element type we do not handle (see <paramref name="OnnxDataType"/>).</param>
public sealed record InitializerInfo(string Name, DType? DType, int OnnxDataType, long[] Shape, bool IsExternal)
{
    public override string ToString() =>
        $"{Name}: {(DType is { } d ? d.ShortName() : OnnxDTypes.OnnxName(OnnxDataType))} {Shapes.Format(Shape)}{(IsExternal ? " (external)" : "")}";
}

public sealed partial class OnnxModel
{
    /// <summary>The main graph's initializers in file order.</summary>
    public IReadOnlyList<InitializerInfo> ListInitializers()
    {
        var list = new List<InitializerInfo>(Graph.Initializer.Count);
        foreach (var t in Graph.Initializer)
        {
            DType? dtype = OnnxDTypes.TryToDType(t.DataType, out DType d) ? d : null;
            list.Add(new InitializerInfo(t.Name, dtype, t.DataType, t.Dims.ToArray(), TensorProtoCodec.IsExternal(t)));
        }
        return list;
    }

    public bool HasInitializer(string name) => FindInitializer(name) is not null;

    /// <summary>The initializer's values as a new tensor the caller disposes (read from raw_data, a typed
    /// field or external data).</summary>
    public Tensor ReadInitializer(string name) =>
        TensorProtoCodec.Decode(GetInitializer(name), DisplayName, BaseDirectory);

    /// <summary>
    /// The initializer's values without copying them where they lie in a file: this model's mapped file (see
    /// <see cref="OnnxModel.Load(string)"/>) or, for external data, a read-only mapping of the data file (one per
    /// file, shared by its tensors). The view keeps its mapping alive. Anywhere else (a model parsed from a
    /// stream, typed fields, replaced values, Windows) <see cref="ReadInitializer"/>'s copy. Either way a tensor
    /// the caller disposes and must not write.
    /// </summary>
    public Tensor ViewInitializer(string name)
    {
        var t = GetInitializer(name);
        return TensorProtoCodec.TryView(t, DisplayName)
            ?? _externalFiles.TryView(t, DisplayName, BaseDirectory)
            ?? TensorProtoCodec.Decode(t, DisplayName, BaseDirectory);
    }

    /// <summary>
    /// Replaces an initializer's values. The tensor must have the initializer's dtype and shape; the
    /// values are stored inline (raw_data) until the next save with external data. Name, dims,
    /// data_type, doc_string and every other field stay as they were.
    /// </summary>
    public void ReplaceInitializer(string name, Tensor value)
    {
        var t = CheckReplacement(name, value.DType, value.Shape);
        if (value.ByteLength > int.MaxValue)
            throw new BadInputException($"{DisplayName}: initializer '{name}' ({value.ByteLength} bytes) is too large to hold in a protobuf field");
        TensorProtoCodec.SetRawData(t, value.Bytes);
    }

    /// <summary>
    /// <see cref="ReplaceInitializer(string, Tensor)"/> with values this model holds without copying them
    /// (several models may hold the same <paramref name="value"/>).
    /// </summary>
    public void ReplaceInitializer(string name, SharedBytes value)
    {
        var t = CheckReplacement(name, value.DType, value.Shape);
        TensorProtoCodec.ClearValues(t);
        t.RawData = value.ByteString;
    }

    private TensorProto CheckReplacement(string name, DType dtype, ReadOnlySpan<long> shape)
    {
        var t = GetInitializer(name);
        var (own, ownShape, _) = TensorProtoCodec.Describe(t, DisplayName);
        if (dtype != own || !shape.SequenceEqual(ownShape))
            throw new BadInputException($"{DisplayName}: initializer '{name}' is {own.ShortName()} {Shapes.Format(ownShape)}, the replacement is {dtype.ShortName()} {Shapes.Format(shape)}");
        return t;
    }

    /// <summary>The initializer's TensorProto, or BadInputException naming it.</summary>
    public TensorProto GetInitializer(string name) =>
        FindInitializer(name) ?? throw new BadInputException($"{DisplayName}: no initializer named '{name}'");

    private TensorProto? FindInitializer(string name)
    {
        foreach (var t in Graph.Initializer)
            if (t.Name == name) return t;
        return null;
    }
}
