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

    /// <summary>
    /// Whose memory the bytes are: the host's (every storage but a CUDA <see cref="ExternalStorage"/>), or a CUDA
    /// device's, which only ONNX Runtime (bound with that device's memory info) and device kernels may touch:
    /// <see cref="Pointer"/> is then a device address and host code must not read it.
    /// </summary>
    public virtual ComputeDevice Device => ComputeDevice.Cpu;

    /// <summary>
    /// Hint that bytes [offset, offset + length) will not be read again soon: a memory-mapped
    /// storage drops those pages from the process's resident set (they stay in the page cache and
    /// are re-read on the next access), so streaming over a large mapped file keeps RSS flat.
    /// A no-op for owned memory.
    /// </summary>
    public virtual void DropResidentPages(long offset, long length) { }
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

/// <summary>
/// Memory someone else owns and frees (an ILGPU device buffer: host memory on ILGPU's CPU accelerator, device
/// memory on CUDA), viewed as tensors so ONNX Runtime reads and writes it in place. Nothing is freed on
/// release: the owner must outlive every tensor over it.
/// </summary>
public sealed class ExternalStorage : TensorStorage
{
    private readonly long _length;
    private readonly ComputeDevice _device;

    public ExternalStorage(IntPtr pointer, long byteLength, ComputeDevice device)
    {
        if (pointer == IntPtr.Zero) throw new ArgumentException("null pointer", nameof(pointer));
        ArgumentOutOfRangeException.ThrowIfNegative(byteLength);
        _length = byteLength;
        _device = device;
        SetHandle(pointer);
    }

    public override long ByteLength => _length;
    public override bool IsReadOnly => false;
    public override ComputeDevice Device => _device;

    protected override bool ReleaseHandle() => true;
}

/// <summary>A whole file mapped read-only. Tensors over it are zero-copy views.</summary>
public sealed unsafe partial class MappedFileStorage : TensorStorage
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly long _length;

    public string Path { get; }

    public MappedFileStorage(string path) : this(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None), path, ownStream: true)
    {
    }

    /// <summary>Maps the whole file <paramref name="fs"/> is open on (a seekable file stream); the stream stays the caller's.</summary>
    public MappedFileStorage(FileStream fs, string path) : this(fs, path, ownStream: false)
    {
    }

    private MappedFileStorage(FileStream fs, string path, bool ownStream)
    {
        Path = path;
        try
        {
            _length = fs.Length;
            if (_length == 0)
            {
                // mmap of an empty file is an error on Linux; an empty file has no bytes to view.
                SetHandle((IntPtr)NativeMemory.AlignedAlloc(NativeStorage.Alignment, NativeStorage.Alignment));
                return;
            }
            _file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: !ownStream);
            _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            SetHandle((IntPtr)(p + _view.PointerOffset));
        }
        finally
        {
            if (ownStream) fs.Dispose();
        }
    }

    public override long ByteLength => _length;
    public override bool IsReadOnly => true;

    public override void DropResidentPages(long offset, long length)
    {
        if (_view is null || length <= 0 || !OperatingSystem.IsLinux()) return;
        // madvise needs a page-aligned start; only whole pages inside the range are dropped, so a
        // neighbouring tensor sharing the first or last page keeps its bytes resident.
        long page = Environment.SystemPageSize;
        long start = (long)Pointer + Math.Max(0, offset);
        long end = (long)Pointer + Math.Min(_length, offset + length);
        long alignedStart = (start + page - 1) / page * page;
        long alignedEnd = end / page * page;
        if (alignedEnd > alignedStart) _ = LibC.madvise((nint)alignedStart, (nuint)(alignedEnd - alignedStart), LibC.MADV_DONTNEED);
    }

    private static partial class LibC
    {
        public const int MADV_DONTNEED = 4;

        [LibraryImport("libc", SetLastError = false)]
        public static partial int madvise(nint address, nuint length, int advice);
    }

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
