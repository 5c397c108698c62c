using System.Runtime.InteropServices;

namespace Amalgam.Kernels;

/// <summary>
/// A named, typed, shaped block of memory. Either owns 64-byte aligned native memory
/// (<see cref="Allocate"/>) or views part of a shared storage such as a memory-mapped file
/// (<see cref="View"/>). Lifetime is explicit: dispose it when done; a view keeps its storage alive
/// until it is disposed. Large tensors (over 2^31 elements) are reached through
/// <see cref="Pointer"/> or ranged spans.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private readonly TensorStorage _storage;
    private readonly long _offset;
    private readonly long[] _shape;
    private readonly bool _ownsStorage;
    private bool _disposed;

    private Tensor(string name, DType dtype, long[] shape, TensorStorage storage, long offset, bool ownsStorage)
    {
        _ownsStorage = ownsStorage;
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = Shapes.ElementCount(shape);
        ByteLength = checked(ElementCount * dtype.Size());
        _storage = storage;
        _offset = offset;
    }

    public string Name { get; }
    public DType DType { get; }
    public ReadOnlySpan<long> Shape => _shape;
    public int Rank => _shape.Length;
    public long ElementCount { get; }
    public long ByteLength { get; }
    public bool IsReadOnly => _storage.IsReadOnly;

    /// <summary>A copy of the shape.</summary>
    public long[] ShapeArray() => (long[])_shape.Clone();

    /// <summary>Whose memory the data is in (<see cref="TensorStorage.Device"/>): the host's unless a view of CUDA memory.</summary>
    public ComputeDevice Device => _storage.Device;

    /// <summary>First byte of the data. Valid until this tensor is disposed.</summary>
    public byte* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _storage.Pointer + _offset;
        }
    }

    /// <summary>New zero-filled (unless <paramref name="zero"/> is false) tensor in aligned native memory.</summary>
    public static Tensor Allocate(string name, DType dtype, ReadOnlySpan<long> shape, bool zero = true)
    {
        long[] s = shape.ToArray();
        long bytes = checked(Shapes.ElementCount(s) * dtype.Size());
        return new Tensor(name, dtype, s, new NativeStorage(bytes, zero), 0, ownsStorage: true);
    }

    /// <summary>A view of <paramref name="storage"/> at <paramref name="byteOffset"/>; adds a reference to it.</summary>
    public static Tensor View(string name, DType dtype, ReadOnlySpan<long> shape, TensorStorage storage, long byteOffset)
    {
        var t = new Tensor(name, dtype, shape.ToArray(), storage, byteOffset, ownsStorage: false);
        if (byteOffset < 0 || byteOffset + t.ByteLength > storage.ByteLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"tensor '{name}' ({t.ByteLength} bytes at {byteOffset}) lies outside its storage of {storage.ByteLength} bytes");
        bool added = false;
        storage.DangerousAddRef(ref added);
        return t;
    }

    /// <summary>A new owning tensor with the same name, dtype, shape and bytes.</summary>
    public Tensor Clone(string? name = null)
    {
        var t = Allocate(name ?? Name, DType, _shape, zero: false);
        Buffer.MemoryCopy(Pointer, t.Pointer, ByteLength, ByteLength);
        return t;
    }

    /// <summary>All bytes (tensors up to 2 GiB).</summary>
    public ReadOnlySpan<byte> Bytes => new(Pointer, checked((int)ByteLength));

    /// <summary>Elements as <typeparamref name="T"/>, read-only (tensors up to 2^31 elements).</summary>
    public ReadOnlySpan<T> Read<T>() where T : unmanaged => Read<T>(0, checked((int)(ByteLength / sizeof(T))));

    public ReadOnlySpan<T> Read<T>(long start, int count) where T : unmanaged
    {
        CheckRange<T>(start, count);
        return new ReadOnlySpan<T>((T*)Pointer + start, count);
    }

    /// <summary>Elements as a writable span; throws for a read-only (memory-mapped) tensor.</summary>
    public Span<T> Write<T>() where T : unmanaged => Write<T>(0, checked((int)(ByteLength / sizeof(T))));

    public Span<T> Write<T>(long start, int count) where T : unmanaged
    {
        if (IsReadOnly) throw new InvalidOperationException($"tensor '{Name}' is read-only (memory-mapped)");
        CheckRange<T>(start, count);
        return new Span<T>((T*)Pointer + start, count);
    }

    private void CheckRange<T>(long start, int count) where T : unmanaged
    {
        if (sizeof(T) != DType.Size() && !(typeof(T) == typeof(byte)))
            throw new InvalidOperationException($"tensor '{Name}' is {DType.ShortName()}, not {typeof(T).Name}");
        long n = ByteLength / sizeof(T);
        if (start < 0 || count < 0 || start + count > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"range [{start}, {start + count}) outside tensor '{Name}' of {n} elements");
    }

    /// <summary>
    /// For a view of a memory-mapped file: drops this tensor's pages from the resident set (see
    /// <see cref="TensorStorage.DropResidentPages"/>); the data stays readable. A no-op otherwise.
    /// </summary>
    public void DropResidentPages()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _storage.DropResidentPages(_offset, ByteLength);
    }

    public override string ToString() => $"{Name}: {DType.ShortName()} {Shapes.Format(_shape)}";

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // An owning tensor disposes its private storage; a view gives back the reference it took.
        if (_ownsStorage) _storage.Dispose();
        else _storage.DangerousRelease();
    }
}
