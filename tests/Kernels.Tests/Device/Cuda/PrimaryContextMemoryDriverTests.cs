using Amalgam.Kernels.Device;
using Amalgam.Kernels.Device.Cuda;

namespace Amalgam.Kernels.Tests.Device.Cuda;

/// <summary>
/// Our CUDA driver code (<see cref="CudaDriverNative"/>, <see cref="PrimaryContextMemory"/>) run against a model of
/// the driver that refuses what the real one refuses (tests/fixtures/cuda/fake_cuda_driver.c: handles that are not
/// ordinals, reference-counted primary contexts, a per-thread context stack, allocations and streams owned by
/// the context current when made, peer copies whose context arguments must own their pointers). On a machine
/// without a GPU this is the only execution these calls get: it checks the marshalling (argument order and
/// types), the pairing of retain/release and push/pop, that everything made is freed, and the one-line errors.
/// The ILGPU side is ILGPU's CPU accelerator, its buffers standing in for memory of a foreign context.
/// </summary>
[NonParallelizable]
public sealed unsafe class PrimaryContextMemoryDriverTests
{
    private DeviceContext _ilgpu = null!;

    [OneTimeSetUp]
    public void OpenAccelerator() => _ilgpu = DeviceContext.Cpu(4, 4, 1);

    [OneTimeTearDown]
    public void CloseAccelerator() => _ilgpu.Dispose();

    [TearDown]
    public void BalancedStack()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Skipped) return;
        Assert.That(FakeCudaDriver.StackDepth, Is.EqualTo(0), "every push was popped; last refusal: " + FakeCudaDriver.Violation);
    }

    [Test]
    public void ConstructionRetainsTheDevicesPrimaryContextAndDisposeGivesEverythingBack()
    {
        var driver = FakeCudaDriver.Start(devices: 2);
        var memory = new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 1);
        Assert.Multiple(() =>
        {
            Assert.That(FakeCudaDriver.Retained(1), Is.EqualTo(1), "device 1's primary context retained once (by its handle, not its ordinal)");
            Assert.That(FakeCudaDriver.Retained(0), Is.EqualTo(0));
            Assert.That(FakeCudaDriver.LiveStreams, Is.EqualTo(1), "one copy stream");
            Assert.That(memory.Place, Is.EqualTo(ComputeDevice.Cuda(1)));
        });
        IntPtr a = memory.Allocate(4096), b = memory.Allocate(0);
        Assert.Multiple(() =>
        {
            Assert.That(FakeCudaDriver.Owner(a), Is.EqualTo(FakeCudaDriver.Primary(1)), "allocated in the primary context");
            Assert.That(FakeCudaDriver.Owner(b), Is.EqualTo(FakeCudaDriver.Primary(1)), "0 bytes still gets an allocation (cuMemAlloc refuses 0)");
            Assert.That(FakeCudaDriver.LiveAllocations, Is.EqualTo(2));
        });
        memory.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(FakeCudaDriver.LiveAllocations, Is.EqualTo(0), "allocations freed");
            Assert.That(FakeCudaDriver.LiveStreams, Is.EqualTo(0), "stream destroyed");
            Assert.That(FakeCudaDriver.Retained(1), Is.EqualTo(0), "primary context released");
            Assert.That(FakeCudaDriver.Violation, Is.Empty, "no call was refused");
        });
        Assert.DoesNotThrow(memory.Dispose, "a second dispose does nothing");
        Assert.That(FakeCudaDriver.Retained(1), Is.EqualTo(0), "and does not release again");
        Assert.Throws<ObjectDisposedException>(() => memory.Allocate(4));
    }

    [TestCase(1, 0)]
    [TestCase(1000, 0)]
    [TestCase(4099, 37)]
    public void CopiesPassEachPointerWithTheContextThatOwnsIt(int length, int offset)
    {
        var driver = FakeCudaDriver.Start();
        using var memory = new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 0);
        var data = DeviceData.Uniform(new System.Random(length), offset + length, 3);
        using var source = _ilgpu.Upload<float>(data);
        using var back = _ilgpu.Upload<float>(new float[offset + length]);
        _ilgpu.Synchronize();
        IntPtr session = memory.Allocate(length * sizeof(float));

        memory.ToSession(session, source.View.SubView(offset, length));
        Assert.That(FakeCudaDriver.Violation, Is.Empty, "ToSession's cuMemcpyPeerAsync was accepted");
        DeviceData.AssertBitwise(new ReadOnlySpan<float>((void*)session, length), data.AsSpan(offset, length), "session copy (from the view's own address)");

        memory.FromSession(back.View.SubView(offset, length), session);
        Assert.That(FakeCudaDriver.Violation, Is.Empty, "FromSession's cuMemcpyPeerAsync was accepted");
        var result = _ilgpu.Download(back);
        DeviceData.AssertBitwise(result.AsSpan(offset, length), data.AsSpan(offset, length), "round trip");
        Assert.That(result.AsSpan(0, offset).ToArray(), Is.All.EqualTo(0f), "nothing before the view is written");
    }

    [Test]
    public void ACopyPastTheSessionAllocationIsRefusedWithTheCallNamed()
    {
        var driver = FakeCudaDriver.Start();
        using var memory = new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 0);
        using var source = _ilgpu.Upload<float>(new float[64]);
        IntPtr session = memory.Allocate(32 * sizeof(float));
        var e = Assert.Throws<CudaDriverException>(() => memory.ToSession(session, source.View));
        Assert.That(e!.Message, Is.EqualTo("cuMemcpyPeerAsync(ILGPU -> session, 256 bytes) failed: CUDA_ERROR_INVALID_VALUE: invalid argument"));
        Assert.That(FakeCudaDriver.Violation, Does.Contain("runs past its allocation"), "the model refused it for the right reason");
    }

    [Test]
    public void AFailedAllocationIsOneLineNamingTheDeviceAndTheDriversError()
    {
        var driver = FakeCudaDriver.Start();
        using var memory = new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 0);
        FakeCudaDriver.FailNext("cuMemAlloc_v2", FakeCudaDriver.OutOfMemory);
        var e = Assert.Throws<CudaDriverException>(() => memory.Allocate(1L << 40));
        Assert.That(e!.Message, Is.EqualTo("cuMemAlloc_v2(1099511627776 bytes) in cuda:0's primary context failed: CUDA_ERROR_OUT_OF_MEMORY: out of memory"));
        Assert.That(FakeCudaDriver.LiveAllocations, Is.EqualTo(0));
        Assert.DoesNotThrow(() => memory.Allocate(8), "the next allocation works");
    }

    [Test]
    public void AFailedStreamCreationReleasesThePrimaryContext()
    {
        var driver = FakeCudaDriver.Start();
        FakeCudaDriver.FailNext("cuStreamCreate", FakeCudaDriver.OutOfMemory);
        var e = Assert.Throws<CudaDriverException>(() => new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 0));
        Assert.That(e!.Message, Is.EqualTo("cuStreamCreate failed: CUDA_ERROR_OUT_OF_MEMORY: out of memory"));
        Assert.That(FakeCudaDriver.Retained(0), Is.EqualTo(0), "retained, then released");
    }

    [Test]
    public void AMissingDeviceIsNamedByItsOrdinal()
    {
        var driver = FakeCudaDriver.Start(devices: 1);
        var e = Assert.Throws<CudaDriverException>(() => new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 3));
        Assert.That(e!.Message, Is.EqualTo("cuDeviceGet(3) failed: CUDA_ERROR_INVALID_DEVICE: invalid device ordinal"));
        Assert.That(FakeCudaDriver.Retained(0), Is.EqualTo(0));
    }

    [Test]
    public void AfterAStickyFaultCopiesReportTheFirstErrorAndDisposeDoesNotThrow()
    {
        var driver = FakeCudaDriver.Start();
        var memory = new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 0);
        using var source = _ilgpu.Upload<float>(new float[16]);
        IntPtr session = memory.Allocate(16 * sizeof(float));
        FakeCudaDriver.FailNext("cuStreamSynchronize", FakeCudaDriver.IllegalAddress);
        var e = Assert.Throws<CudaDriverException>(() => memory.ToSession(session, source.View));
        Assert.That(e!.Message, Is.EqualTo("cuStreamSynchronize(ILGPU -> session) failed: CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered"));
        Assert.That(FakeCudaDriver.StackDepth, Is.EqualTo(0), "the failed copy popped what it pushed");

        FakeCudaDriver.FailAll(FakeCudaDriver.IllegalAddress);   // from here every call fails, as after a kernel fault
        Assert.DoesNotThrow(memory.Dispose);
        FakeCudaDriver.FailAll(0);
        Assert.Throws<ObjectDisposedException>(() => memory.Allocate(4), "disposed even though the driver refused");
    }

    [Test]
    public void CopiesOfNothingCallNothing()
    {
        var driver = FakeCudaDriver.Start();
        using var memory = new PrimaryContextMemory(driver, FakeCudaDriver.ForeignContext(), ordinal: 0);
        using var source = _ilgpu.Upload<float>(new float[4]);
        FakeCudaDriver.FailAll(FakeCudaDriver.IllegalAddress);
        try
        {
            Assert.DoesNotThrow(() => memory.ToSession(IntPtr.Zero, source.View.SubView(0, 0)));
            Assert.DoesNotThrow(() => memory.FromSession(source.View.SubView(0, 0), IntPtr.Zero));
        }
        finally
        {
            FakeCudaDriver.FailAll(0);
        }
    }
}

/// <summary>Loading the driver table: a missing library, a library without the exports, a driver whose cuInit fails.</summary>
[NonParallelizable]
public sealed class CudaDriverLoadTests
{
    [Test]
    public void TheModelDriverLoadsAndInitialises()
    {
        FakeCudaDriver.RequireLoadable();
        FakeCudaDriver.Reset();
        Assert.DoesNotThrow(() => CudaDriverNative.LoadFrom(FakeCudaDriver.Path));
    }

    [Test]
    public void AMissingLibraryIsNamed()
    {
        var e = Assert.Throws<CudaDriverException>(() => CudaDriverNative.LoadFrom("/nonexistent/libcuda.so.1"));
        Assert.That(e!.Message, Is.EqualTo("the CUDA driver library /nonexistent/libcuda.so.1 is not installed or not loadable"));
    }

    [Test]
    public void ALibraryWithoutTheDriversExportsNamesTheFirstMissingOne()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("uses libc.so.6 as a library that is not the driver");
        var e = Assert.Throws<CudaDriverException>(() => CudaDriverNative.LoadFrom("libc.so.6"));
        Assert.That(e!.Message, Is.EqualTo("libc.so.6: does not export cuInit"));
    }

    [Test]
    public void AFailingCuInitGivesTheDriversNameAndText()
    {
        FakeCudaDriver.RequireLoadable();
        FakeCudaDriver.Reset(devices: 0, initResult: FakeCudaDriver.NoDevice);
        var e = Assert.Throws<CudaDriverException>(() => CudaDriverNative.LoadFrom(FakeCudaDriver.Path));
        Assert.That(e!.Message, Is.EqualTo($"{FakeCudaDriver.Path}: cuInit failed: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected"));
    }

    [Test]
    public void AnErrorCodeTheDriverCannotNameIsStillOneLine()
    {
        var driver = FakeCudaDriver.Start();
        var e = Assert.Throws<CudaDriverException>(() => driver.Check(12345, "cuSomething"));
        Assert.That(e!.Message, Is.EqualTo("cuSomething failed: CUresult 12345: unknown error"));
    }
}
