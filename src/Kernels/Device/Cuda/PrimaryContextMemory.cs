using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device.Cuda;

/// <summary>
/// <see cref="SessionMemory"/> on CUDA device <c>N</c>: allocations in the device's primary context (the one
/// ONNX Runtime's CUDA provider uses: <c>cudaSetDevice</c> binds it), copied device to device with
/// <c>cuMemcpyPeerAsync</c> between it and ILGPU's context (<see cref="Accelerator.NativePtr"/>: ILGPU 1.5.3
/// creates a context of its own). Copies go on a non-blocking stream of the primary context and are waited
/// for on that stream only, so they neither wait for nor hold up the other lanes' session runs.
/// Allocations are freed, the stream destroyed and the primary context released at <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class PrimaryContextMemory : SessionMemory
{
    private readonly CudaDriverNative _driver;
    private readonly int _ordinal, _device;
    private readonly IntPtr _ilgpuContext;
    private readonly List<IntPtr> _allocations = [];
    private IntPtr _primary, _stream;

    /// <summary>Retains device <paramref name="ordinal"/>'s primary context and makes a copy stream in it; <paramref name="accelerator"/> is ILGPU's on that device.</summary>
    public PrimaryContextMemory(Accelerator accelerator, int ordinal) : this(CudaDriverNative.Instance, accelerator.NativePtr, ordinal) { }

    /// <param name="driver">The driver's table (tests: a model of the driver).</param>
    /// <param name="acceleratorContext">The context that owns the ILGPU views copied to and from (ILGPU's own).</param>
    /// <param name="ordinal">The CUDA device ordinal.</param>
    internal PrimaryContextMemory(CudaDriverNative driver, IntPtr acceleratorContext, int ordinal)
    {
        _driver = driver;
        _ordinal = ordinal;
        _ilgpuContext = acceleratorContext;
        int device;
        _driver.Check(_driver.DeviceGet(&device, ordinal), $"cuDeviceGet({ordinal})");
        _device = device;
        IntPtr primary;
        _driver.Check(_driver.PrimaryCtxRetain(&primary, device), $"cuDevicePrimaryCtxRetain(cuda:{ordinal})");
        _primary = primary;
        try
        {
            using var current = Push();
            IntPtr stream;
            _driver.Check(_driver.StreamCreate(&stream, CudaDriverNative.StreamNonBlocking), "cuStreamCreate");
            _stream = stream;
        }
        catch
        {
            _driver.PrimaryCtxRelease(_device);
            _primary = IntPtr.Zero;
            throw;
        }
    }

    public override ComputeDevice Place => ComputeDevice.Cuda(_ordinal);

    public override IntPtr Allocate(long bytes)
    {
        using var current = Push();
        IntPtr p;
        _driver.Check(_driver.MemAlloc(&p, (nuint)Math.Max(1, bytes)), $"cuMemAlloc_v2({bytes} bytes) in cuda:{_ordinal}'s primary context");
        lock (_allocations) _allocations.Add(p);
        return p;
    }

    public override void ToSession(IntPtr destination, ArrayView<float> source) =>
        Copy(destination, _primary, Address(source), _ilgpuContext, source.LengthInBytes, "ILGPU -> session");

    public override void FromSession(ArrayView<float> destination, IntPtr source) =>
        Copy(Address(destination), _ilgpuContext, source, _primary, destination.LengthInBytes, "session -> ILGPU");

    private void Copy(IntPtr dst, IntPtr dstContext, IntPtr src, IntPtr srcContext, long bytes, string what)
    {
        if (bytes == 0) return;
        using var current = Push();
        _driver.Check(_driver.MemcpyPeerAsync(dst, dstContext, src, srcContext, (nuint)bytes, _stream), $"cuMemcpyPeerAsync({what}, {bytes} bytes)");
        _driver.Check(_driver.StreamSynchronize(_stream), $"cuStreamSynchronize({what})");
    }

    /// <summary>The device address of <paramref name="view"/>'s first element.</summary>
    private static IntPtr Address(ArrayView<float> view) =>
        ((IArrayView)view).Buffer.NativePtr + (nint)((IContiguousArrayView)view).IndexInBytes;

    /// <summary>Makes the primary context current on this thread until disposed (ILGPU's binding is restored: a push/pop pair).</summary>
    private Current Push()
    {
        ObjectDisposedException.ThrowIf(_primary == IntPtr.Zero, this);
        _driver.Check(_driver.CtxPushCurrent(_primary), "cuCtxPushCurrent_v2");
        return new Current(_driver);
    }

    private readonly struct Current(CudaDriverNative driver) : IDisposable
    {
        public void Dispose() => driver.PopQuietly();
    }

    /// <summary>Frees, destroys and releases without throwing (after a kernel fault every call may fail; the first error was already reported).</summary>
    public override void Dispose()
    {
        if (_primary == IntPtr.Zero) return;
        bool pushed = _driver.CtxPushCurrent(_primary) == CudaDriverNative.Success;
        lock (_allocations)
        {
            foreach (var p in _allocations) _ = _driver.MemFree(p);
            _allocations.Clear();
        }
        if (_stream != IntPtr.Zero) _ = _driver.StreamDestroy(_stream);
        _stream = IntPtr.Zero;
        if (pushed) _driver.PopQuietly();
        _ = _driver.PrimaryCtxRelease(_device);
        _primary = IntPtr.Zero;
    }
}
