using System.Buffers;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// A <see cref="TensorStorage"/>'s bytes as <see cref="Memory{T}"/>, so protobuf ByteStrings can wrap native
/// memory (a mapped model file, a merged tensor's copy) without copying it. Holds the storage: it stays
/// allocated or mapped while any ByteString over this manager is reachable, and the garbage collector frees
/// it after (nothing here releases it early). A span of it does not hold it: whoever reads a span must keep
/// the ByteString (or the model) reachable until the read is done. At most 2 GiB (protobuf's own limit).
/// </summary>
internal sealed unsafe class StorageMemory : MemoryManager<byte>
{
    private readonly TensorStorage _storage;
    private readonly int _length;

    public StorageMemory(TensorStorage storage)
    {
        if (storage.ByteLength > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(storage), "over 2 GiB");
        _storage = storage;
        _length = (int)storage.ByteLength;
    }

    /// <summary>The storage the bytes are in (views of it hold it too).</summary>
    public TensorStorage Storage => _storage;

    public override Span<byte> GetSpan() => new(_storage.Pointer, _length);

    // Native memory does not move; a pin holds a reference on the storage (a span does not: code that reads a
    // ByteString's span keeps the ByteString alive to the end of the read, see TensorProtoCodec.Decode).
    public override MemoryHandle Pin(int elementIndex = 0)
    {
        bool added = false;
        _storage.DangerousAddRef(ref added);
        return new MemoryHandle(_storage.Pointer + elementIndex, default, this);
    }

    public override void Unpin() => _storage.DangerousRelease();

    protected override void Dispose(bool disposing) { }
}
