using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Device.Cuda;

/// <summary>
/// The one owner of the CUDA driver API functions we call ourselves (ILGPU calls the rest): the device's
/// primary context (the one ONNX Runtime's CUDA provider works in, through the runtime API), memory in it,
/// and copies between it and ILGPU's own context (<see cref="PrimaryContextMemory"/>). Loaded from
/// <c>libcuda.so.1</c> (<c>nvcuda.dll</c> on Windows) on first use and kept for the life of the process.
/// Every failed <c>CUresult</c> becomes a <see cref="CudaDriverException"/> with the driver's own name and
/// text for it (<see cref="Check"/>).
/// </summary>
internal sealed unsafe class CudaDriverNative
{
    public const int Success = 0;
    public const uint StreamNonBlocking = 1;   // CU_STREAM_NON_BLOCKING: no implicit sync with the null stream

    // CUresult cuInit(unsigned int flags)
    public readonly delegate* unmanaged<uint, int> Init;
    // CUresult cuDeviceGet(CUdevice* device, int ordinal)
    public readonly delegate* unmanaged<int*, int, int> DeviceGet;
    // CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev)
    public readonly delegate* unmanaged<IntPtr*, int, int> PrimaryCtxRetain;
    // CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev)
    public readonly delegate* unmanaged<int, int> PrimaryCtxRelease;
    // CUresult cuCtxPushCurrent_v2(CUcontext ctx) / cuCtxPopCurrent_v2(CUcontext* pctx)
    public readonly delegate* unmanaged<IntPtr, int> CtxPushCurrent;
    public readonly delegate* unmanaged<IntPtr*, int> CtxPopCurrent;
    // CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize) / cuMemFree_v2(CUdeviceptr dptr)
    public readonly delegate* unmanaged<IntPtr*, nuint, int> MemAlloc;
    public readonly delegate* unmanaged<IntPtr, int> MemFree;
    // CUresult cuStreamCreate(CUstream* phStream, unsigned int flags) / cuStreamDestroy_v2 / cuStreamSynchronize
    public readonly delegate* unmanaged<IntPtr*, uint, int> StreamCreate;
    public readonly delegate* unmanaged<IntPtr, int> StreamDestroy;
    public readonly delegate* unmanaged<IntPtr, int> StreamSynchronize;
    // CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext dstCtx, CUdeviceptr src, CUcontext srcCtx, size_t bytes, CUstream stream)
    public readonly delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, nuint, IntPtr, int> MemcpyPeerAsync;
    // CUresult cuGetErrorName(CUresult error, const char** pStr) / cuGetErrorString(CUresult error, const char** pStr)
    public readonly delegate* unmanaged<int, byte**, int> GetErrorName;
    public readonly delegate* unmanaged<int, byte**, int> GetErrorString;

    public static string LibraryName => OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";

    private static readonly Lazy<CudaDriverNative?> Loaded = new(Load);

    private CudaDriverNative(IntPtr handle)
    {
        Init = (delegate* unmanaged<uint, int>)Export(handle, "cuInit");
        DeviceGet = (delegate* unmanaged<int*, int, int>)Export(handle, "cuDeviceGet");
        PrimaryCtxRetain = (delegate* unmanaged<IntPtr*, int, int>)Export(handle, "cuDevicePrimaryCtxRetain");
        PrimaryCtxRelease = (delegate* unmanaged<int, int>)Export(handle, "cuDevicePrimaryCtxRelease_v2");
        CtxPushCurrent = (delegate* unmanaged<IntPtr, int>)Export(handle, "cuCtxPushCurrent_v2");
        CtxPopCurrent = (delegate* unmanaged<IntPtr*, int>)Export(handle, "cuCtxPopCurrent_v2");
        MemAlloc = (delegate* unmanaged<IntPtr*, nuint, int>)Export(handle, "cuMemAlloc_v2");
        MemFree = (delegate* unmanaged<IntPtr, int>)Export(handle, "cuMemFree_v2");
        StreamCreate = (delegate* unmanaged<IntPtr*, uint, int>)Export(handle, "cuStreamCreate");
        StreamDestroy = (delegate* unmanaged<IntPtr, int>)Export(handle, "cuStreamDestroy_v2");
        StreamSynchronize = (delegate* unmanaged<IntPtr, int>)Export(handle, "cuStreamSynchronize");
        MemcpyPeerAsync = (delegate* unmanaged<IntPtr, IntPtr, IntPtr, IntPtr, nuint, IntPtr, int>)Export(handle, "cuMemcpyPeerAsync");
        GetErrorName = (delegate* unmanaged<int, byte**, int>)Export(handle, "cuGetErrorName");
        GetErrorString = (delegate* unmanaged<int, byte**, int>)Export(handle, "cuGetErrorString");
    }

    /// <summary>The driver's table, or a <see cref="CudaDriverException"/> saying which library or export is missing.</summary>
    public static CudaDriverNative Instance => Loaded.Value ?? throw new CudaDriverException(LoadError!);

    private static string? LoadError;

    private static CudaDriverNative? Load()
    {
        try
        {
            return LoadFrom(LibraryName);
        }
        catch (CudaDriverException e)
        {
            LoadError = e.Message;
            return null;
        }
    }

    /// <summary>
    /// Loads <paramref name="library"/> (a name the loader resolves, or a path), binds every export and calls
    /// <c>cuInit</c>; a missing library or export, or a failing <c>cuInit</c>, is a <see cref="CudaDriverException"/>
    /// naming the library. <see cref="Instance"/> is this for the system's driver; tests load a model of the
    /// driver (tests/fixtures/cuda) by path. The library stays loaded for the life of the process.
    /// </summary>
    internal static CudaDriverNative LoadFrom(string library)
    {
        if (!NativeLibrary.TryLoad(library, out IntPtr handle))
            throw new CudaDriverException($"the CUDA driver library {library} is not installed or not loadable");
        try
        {
            var table = new CudaDriverNative(handle);
            table.Check(table.Init(0), "cuInit");
            return table;
        }
        catch (Exception e) when (e is MissingExportException or CudaDriverException)
        {
            throw new CudaDriverException($"{library}: {e.Message}");
        }
    }

    /// <summary>Throws <see cref="CudaDriverException"/> naming <paramref name="call"/> and the driver's name and text for <paramref name="result"/>.</summary>
    public void Check(int result, string call)
    {
        if (result == Success) return;
        byte* name = null, text = null;
        string n = GetErrorName(result, &name) == Success && name != null ? Marshal.PtrToStringUTF8((IntPtr)name)! : $"CUresult {result}";
        string t = GetErrorString(result, &text) == Success && text != null ? Marshal.PtrToStringUTF8((IntPtr)text)! : "unknown error";
        throw new CudaDriverException($"{call} failed: {n}: {t}");
    }

    /// <summary>Pushes <paramref name="context"/> on the calling thread's context stack (it becomes current); <paramref name="what"/> names it in the error.</summary>
    public void PushCurrent(IntPtr context, string what) => Check(CtxPushCurrent(context), $"cuCtxPushCurrent_v2 ({what})");

    /// <summary>Pops the thread's current context, ignoring a failure (dispose paths: a sticky error after a kernel fault must not hide the first one).</summary>
    public void PopQuietly()
    {
        IntPtr popped;
        _ = CtxPopCurrent(&popped);
    }

    private static IntPtr Export(IntPtr handle, string name) =>
        NativeLibrary.TryGetExport(handle, name, out IntPtr p) ? p : throw new MissingExportException($"does not export {name}");

    private sealed class MissingExportException(string message) : Exception(message);
}

/// <summary>A CUDA driver call failed; the message names the call and the driver's error (one line).</summary>
public sealed class CudaDriverException(string message) : Exception(message);
