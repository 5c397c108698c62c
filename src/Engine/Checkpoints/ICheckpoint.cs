using Amalgam.Kernels;

namespace Amalgam.Engine.Checkpoints;

/// <summary>Name, dtype and shape of one checkpoint tensor, without its data.</summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape)
{
    public long ElementCount => Shapes.ElementCount(Shape);
    public long ByteLength => ElementCount * DType.Size();
    public override string ToString() => $"{Name}: {DType.ShortName()} {Shapes.Format(Shape)}";
}

public enum CheckpointFormat { Safetensors, Onnx }

/// <summary>
/// A model's parameters as an ordered name -> tensor map, loaded lazily one tensor at a time so a
/// merge never holds a whole model. Sources: ONNX initializers (inline or external data) and
/// safetensors (single file or sharded).
/// </summary>
public interface ICheckpoint : IDisposable
{
    /// <summary>The path the user gave (file or folder).</summary>
    string Path { get; }

    CheckpointFormat Format { get; }

    /// <summary>Every tensor, in the source's own order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    bool Contains(string name);

    TensorInfo Info(string name);

    /// <summary>
    /// The tensor's data (possibly a read-only zero-copy view); the caller disposes it. Unknown names
    /// are a <see cref="BadInputException"/> naming the file.
    /// </summary>
    Tensor Load(string name);
}
