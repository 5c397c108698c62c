using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>
/// Direct calls of the bound table entries that the public API reaches only on rare paths, so a wrong
/// index (which would call some other function) shows up here rather than in production.
/// </summary>
public sealed unsafe class OrtEntryPointTests
{
    [Test]
    public void Cpu_memory_info_can_be_created_and_released()
    {
        OrtApi api = OrtApi.Instance;
        IntPtr info;
        api.Check(api.CreateCpuMemoryInfo(0, 0, &info)); // OrtDeviceAllocator, OrtMemTypeDefault
        Assert.That(info, Is.Not.EqualTo(IntPtr.Zero));
        var handle = new OrtMemoryInfoHandle(info);
        handle.Dispose(); // ReleaseMemoryInfo [94]
        Assert.That(handle.IsClosed, Is.True);
    }

    [Test]
    public void Cuda_provider_options_entries_create_update_and_release()
    {
        OrtApi api = OrtApi.Instance;
        _ = OrtEnvironment.Instance; // ORT needs its logger before providers are touched
        IntPtr options = IntPtr.Zero;
        IntPtr status = api.CreateCUDAProviderOptions(&options);
        if (status != IntPtr.Zero)
        {
            // A build without the CUDA provider says so through a status; that is the entry working too.
            var e = Assert.Throws<OrtException>(() => api.Check(status));
            TestContext.Out.WriteLine(e!.Message);
            Assert.That(e.OrtMessage, Does.Contain("CUDA"));
            return;
        }
        using var handle = new OrtCudaProviderOptionsHandle(options); // ReleaseCUDAProviderOptions [208]
        fixed (byte* key = "device_id\0"u8)
        fixed (byte* value = "0\0"u8)
        {
            byte* k = key, v = value;
            // Updating loads the CUDA provider library; without it ORT answers with a status naming the library.
            IntPtr updated = api.UpdateCUDAProviderOptions(options, &k, &v, 1);
            if (updated == IntPtr.Zero) return;
            var e = Assert.Throws<OrtException>(() => api.Check(updated));
            TestContext.Out.WriteLine(e!.Message);
            Assert.That(e.OrtMessage, Does.Contain("libonnxruntime_providers"));
        }
    }

    [Test]
    public void Appending_the_cuda_provider_reports_through_a_status_not_a_crash()
    {
        OrtApi api = OrtApi.Instance;
        _ = OrtEnvironment.Instance; // ORT needs its logger before providers are touched
        IntPtr sessionOptions, cuda;
        api.Check(api.CreateSessionOptions(&sessionOptions));
        using var so = new OrtSessionOptionsHandle(sessionOptions);
        IntPtr status = api.CreateCUDAProviderOptions(&cuda);
        if (status != IntPtr.Zero) { api.ReleaseStatus(status); Assert.Pass("no CUDA provider options in this build"); }
        using var options = new OrtCudaProviderOptionsHandle(cuda);
        status = api.SessionOptionsAppendExecutionProvider_CUDA_V2(sessionOptions, cuda);
        if (status == IntPtr.Zero) Assert.Pass("CUDA provider appended: this machine can run CUDA");
        var e = Assert.Throws<OrtException>(() => api.Check(status));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.OrtMessage, Does.Contain("shared library").Or.Contain("libonnxruntime_providers"));
    }
}
