using Amalgam.Kernels;
using Google.Protobuf;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// A tensor's values copied once into native memory that any number of models may hold as an initializer's
/// raw_data without a copy each (<see cref="OnnxModel.ReplaceInitializer(string, SharedBytes)"/>): a merge that
/// writes one merged tensor into K per-task models copies it once, not K times into fresh managed arrays (on a
/// VM whose first touch of a page is slow, those copies were a third of a merge's system time). Immutable after
/// <see cref="CopyOf"/>; freed by the garbage collector once no model refers to it (<see cref="StorageMemory"/>).
/// </summary>
public sealed unsafe class SharedBytes
{
    private SharedBytes(ByteString bytes, DType dtype, long[] shape)
    {
        ByteString = bytes;
        DType = dtype;
        Shape = shape;
    }

    public DType DType { get; }
    public long[] Shape { get; }

    /// <summary>The bytes as a protobuf field value (no copy).</summary>
    internal ByteString ByteString { get; }

    /// <summary>A copy of <paramref name="value"/>'s bytes (at most 2 GiB: what one protobuf field holds).</summary>
    public static SharedBytes CopyOf(Tensor value)
    {
        if (value.ByteLength > int.MaxValue)
            throw new BadInputException($"tensor '{value.Name}' ({value.ByteLength} bytes) is too large to hold in a protobuf field");
        var storage = new NativeStorage(value.ByteLength, zero: false);
        value.Bytes.CopyTo(new Span<byte>(storage.Pointer, (int)value.ByteLength));
        return new SharedBytes(UnsafeByteOperations.UnsafeWrap(new StorageMemory(storage).Memory), value.DType, value.Shape.ToArray());
    }
}
