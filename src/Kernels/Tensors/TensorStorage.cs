using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Amalgam.Kernels;

/// <summary>
/// Memory that tensors view: either 64-byte aligned native memory we own, or a read-only
/// memory-mapped file region. Storage is reference counted (it is a SafeHandle), so a tensor view
/// keeps its storage alive and disposing the owner only unmaps once the last view is gone.
/// </summary>
public abstract unsafe class TensorStorage : SafeHandle
{
    protected TensorStorage() : base(IntPtr.Zero, ownsHandle: true) { }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>First byte of the storage.</summary>
    public byte* Pointer => (byte*)handle;

    public abstract long ByteLength { get; }
    public abstract bool IsReadOnly { get; }
}

/// <summary>64-byte aligned native memory (cache-line and Vector512 aligned), freed on release.</summary>
public sealed unsafe class NativeStorage : TensorStorage
{
    public const int Alignment = 64;
    private readonly long _length;

    public NativeStorage(long byteLength, bool zero = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        _length = byteLength;
        // Allocate at least one aligned line so empty tensors still have a valid, distinct pointer.
        nuint size = (nuint)Math.Max(byteLength, Alignment);
        void* p = NativeMemory.AlignedAlloc(size, Alignment);
        if (p == null) throw new OutOfMemoryException($"could not allocate {byteLength} bytes of native memory");
        if (zero) NativeMemory.Clear(p, size);
        SetHandle((IntPtr)p);
        if (byteLength > 0) GC.AddMemoryPressure(byteLength);
    }

    public override long ByteLength => _length;
    public override bool IsReadOnly => false;

    protected override bool ReleaseHandle()
    {
        NativeMemory.AlignedFree((void*)handle);
        if (_length > 0) GC.RemoveMemoryPressure(_length);
        return true;
    }
}

/// <summary>A whole file mapped read-only. Tensors over it are zero-copy views.</summary>
public sealed unsafe class MappedFileStorage : TensorStorage
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _length;

    public string Path { get; }

    public MappedFileStorage(string path)
    {
        Path = path;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        _length = fs.Length;
        if (_length == 0)
        {
            // mmap of an empty file is an error on Linux; an empty file has no bytes to view.
            SetHandle((IntPtr)NativeMemory.AlignedAlloc(NativeStorage.Alignment, NativeStorage.Alignment));
            return;
        }
        _file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        SetHandle((IntPtr)(p + _view.PointerOffset));
    }

    public override long ByteLength => _length;
    public override bool IsReadOnly => true;

    protected override bool ReleaseHandle()
    {
        if (_view is null)
        {
            NativeMemory.AlignedFree((void*)handle);
            return true;
        }
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file!.Dispose();
        return true;
    }
}
