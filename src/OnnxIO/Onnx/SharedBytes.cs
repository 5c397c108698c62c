using System.Buffers;
using Amalgam.Kernels;
using Google.Protobuf;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// A tensor's values copied once into native memory that any number of models may hold as an initializer's
/// raw_data without a copy each (<see cref="OnnxModel.ReplaceInitializer(string, SharedBytes)"/>): a merge that
/// writes one merged tensor into K per-task models copies it once, not K times into fresh managed arrays (on a
/// VM whose first touch of a page is slow, those copies were a third of a merge's system time). Immutable after
/// <see cref="CopyOf"/>. Freed by the garbage collector once no model's protobuf refers to it: the raw_data
/// ByteStrings hold this manager, which holds the storage.
/// </summary>
public sealed unsafe class SharedBytes : MemoryManager<byte>
{
    private readonly NativeStorage _storage;
    private readonly int _length;

    private SharedBytes(NativeStorage storage, int length, DType dtype, long[] shape)
    {
        _storage = storage;
        _length = length;
        DType = dtype;
        Shape = shape;
        ByteString = UnsafeByteOperations.UnsafeWrap(Memory);
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
        value.Bytes.CopyTo(new Span<byte>((void*)storage.DangerousGetHandle(), (int)value.ByteLength));
        return new SharedBytes(storage, (int)value.ByteLength, value.DType, value.Shape.ToArray());
    }

    public override Span<byte> GetSpan() => new((void*)_storage.DangerousGetHandle(), _length);

    // Native memory does not move: pinning is a no-op.
    public override MemoryHandle Pin(int elementIndex = 0) => new((byte*)_storage.DangerousGetHandle() + elementIndex);

    public override void Unpin() { }

    // The storage lives as long as this manager is reachable (its ByteString is held by a model); never freed early.
    protected override void Dispose(bool disposing) { }
}
