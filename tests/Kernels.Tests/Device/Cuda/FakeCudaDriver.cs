using System.Runtime.InteropServices;
using Amalgam.Kernels.Device.Cuda;

namespace Amalgam.Kernels.Tests.Device.Cuda;

/// <summary>
/// tests/fixtures/cuda/libfake_cuda_driver.so: a model of the CUDA driver calls we make ourselves, which refuses
/// what the real driver refuses (see fake_cuda_driver.c), and its test hooks. One library instance per process:
/// <see cref="Reset"/> starts it over, so the tests using it do not run in parallel.
/// </summary>
internal static unsafe class FakeCudaDriver
{
    public const int InvalidValue = 1, OutOfMemory = 2, NoDevice = 100, InvalidContext = 201, IllegalAddress = 700;

    public static string Path => Fixtures.File("cuda/libfake_cuda_driver.so");

    private static readonly Lazy<IntPtr> Handle = new(() => NativeLibrary.Load(Path));

    /// <summary>Skips the test where the committed library cannot load (it is built for Linux x86-64).</summary>
    public static void RequireLoadable()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            Assert.Ignore("the fake CUDA driver is built for Linux x86-64");
    }

    /// <summary>Forgets all state: <paramref name="devices"/> devices, and cuInit will return <paramref name="initResult"/>.</summary>
    public static void Reset(int devices = 1, int initResult = 0) =>
        ((delegate* unmanaged<int, int, void>)Export("fake_cuda_reset"))(devices, initResult);

    /// <summary>Resets with <paramref name="devices"/> devices and loads the table (its cuInit succeeds).</summary>
    public static CudaDriverNative Start(int devices = 1)
    {
        RequireLoadable();
        Reset(devices);
        return CudaDriverNative.LoadFrom(Path);
    }

    public static IntPtr ForeignContext() => Call<IntPtr>("fake_cuda_foreign_context");
    public static int LiveAllocations => Call<int>("fake_cuda_live_allocations");
    public static int LiveStreams => Call<int>("fake_cuda_live_streams");
    public static int StackDepth => Call<int>("fake_cuda_stack_depth");
    public static string Violation => Marshal.PtrToStringUTF8(Call<IntPtr>("fake_cuda_violation")) ?? "";

    public static int Retained(int ordinal) => ((delegate* unmanaged<int, int>)Export("fake_cuda_retained"))(ordinal);
    public static IntPtr Primary(int ordinal) => ((delegate* unmanaged<int, IntPtr>)Export("fake_cuda_primary"))(ordinal);
    public static IntPtr Owner(IntPtr pointer) => ((delegate* unmanaged<IntPtr, IntPtr>)Export("fake_cuda_owner"))(pointer);
    public static void FailAll(int code) => ((delegate* unmanaged<int, void>)Export("fake_cuda_fail_all"))(code);

    /// <summary>The next call named <paramref name="call"/> returns <paramref name="code"/>.</summary>
    public static void FailNext(string call, int code)
    {
        IntPtr name = Marshal.StringToCoTaskMemUTF8(call);
        try { ((delegate* unmanaged<IntPtr, int, void>)Export("fake_cuda_fail_next"))(name, code); }
        finally { Marshal.FreeCoTaskMem(name); }
    }

    private static IntPtr Export(string name) => NativeLibrary.GetExport(Handle.Value, name);

    private static T Call<T>(string name) where T : unmanaged => ((delegate* unmanaged<T>)Export(name))();
}
