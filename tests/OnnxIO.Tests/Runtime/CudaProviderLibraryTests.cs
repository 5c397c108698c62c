using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>The refusal of --device cuda names the first missing CUDA library, taken from the loader's message as .NET reports it.</summary>
public sealed class CudaProviderLibraryTests
{
    [Test]
    public void TheMissingDependencyIsCutOutOfTheLoaderMessage()
    {
        // DllNotFoundException's message on Linux, as seen on the GPU flavour without CUDA (one dlerror per name tried).
        const string message = "Unable to load shared library '/opt/a/runtimes/linux-x64/native/libonnxruntime_providers_cuda.so' or one of its dependencies. "
            + "In order to help diagnose loading problems, consider using a tool like strace. If you're using glibc, consider setting the LD_DEBUG environment variable: \n"
            + "libcublasLt.so.13: cannot open shared object file: No such file or directory\n"
            + "/opt/a/libonnxruntime_providers_cuda.so.so: cannot open shared object file: No such file or directory\n";
        Assert.That(CudaProviderLibrary.Reason(message), Is.EqualTo("libcublasLt.so.13: cannot open shared object file: No such file or directory"));
    }

    [Test]
    public void AnUnexpectedMessageIsKeptOnOneLine()
    {
        Assert.That(CudaProviderLibrary.Reason("something\nelse "), Is.EqualTo("something else"));
    }

    [Test]
    public void TheCpuBuildHasNoProviderLibraryToLoad()
    {
        if (RuntimeEnvironment.HasCudaProvider) Assert.Ignore("GPU flavour");
        Assert.That(CudaProviderLibrary.LoadError(), Is.Null);
    }
}
