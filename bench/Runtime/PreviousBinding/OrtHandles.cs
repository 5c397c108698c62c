using System.Runtime.InteropServices;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// A native ORT object owned by a SafeHandle: released exactly once, by <see cref="SafeHandle.Dispose()"/>
/// or, if forgotten, by the finalizer; never while a native call is using it (SafeHandle reference counting).
/// Each subclass names the <c>Release*</c> entry that frees it.
/// </summary>
internal abstract class OrtHandle : SafeHandle
{
    protected OrtHandle(IntPtr native) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(native);

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The raw pointer for a native call; the caller keeps this handle alive for the call.</summary>
    public IntPtr Native
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return handle;
        }
    }
}

internal sealed unsafe class OrtEnvHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseEnv(handle); return true; }
}

internal sealed unsafe class OrtSessionOptionsHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseSessionOptions(handle); return true; }
}

internal sealed unsafe class OrtSessionHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseSession(handle); return true; }
}

internal sealed unsafe class OrtMemoryInfoHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseMemoryInfo(handle); return true; }
}

internal sealed unsafe class OrtValueHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseValue(handle); return true; }
}

internal sealed unsafe class OrtRunOptionsHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseRunOptions(handle); return true; }
}

internal sealed unsafe class OrtTypeInfoHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseTypeInfo(handle); return true; }
}

internal sealed unsafe class OrtTensorTypeAndShapeInfoHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseTensorTypeAndShapeInfo(handle); return true; }
}

internal sealed unsafe class OrtCudaProviderOptionsHandle(IntPtr p) : OrtHandle(p)
{
    protected override bool ReleaseHandle() { OrtApi.Instance.ReleaseCUDAProviderOptions(handle); return true; }
}

/// <summary>A UTF-8 string ORT allocated with the default allocator (input/output names); freed with it.</summary>
internal sealed unsafe class OrtAllocatedStringHandle(IntPtr p) : OrtHandle(p)
{
    public string Value => Marshal.PtrToStringUTF8(Native) ?? "";

    protected override bool ReleaseHandle()
    {
        OrtApi api = OrtApi.Instance;
        IntPtr status = api.AllocatorFree(api.DefaultAllocator, (void*)handle);
        if (status != IntPtr.Zero) api.ReleaseStatus(status);
        return status == IntPtr.Zero;
    }
}
