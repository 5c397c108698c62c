using System.Diagnostics;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>The official ONNX Runtime packages: which library is loaded, from where, and the process-wide environment.</summary>
public sealed class RuntimeEnvironmentTests
{
    [Test]
    public void LoadedLibraryIsTheVersionThePackageNames()
    {
        // 1.31.1 from Microsoft.ML.OnnxRuntime; the GPU flavour's Gpu.Linux package is 1.31.0.
        string expected = RuntimeEnvironment.HasCudaProvider ? "1.31.0" : "1.31.1";
        Assert.That(RuntimeEnvironment.Version, Is.EqualTo(expected));
    }

    [Test]
    public void TheNativeLibraryComesFromTheNugetPackageBesideTheProgram()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul([1f]));
        string? loaded = Process.GetCurrentProcess().Modules.Cast<ProcessModule>()
            .Select(m => m.FileName).FirstOrDefault(f => Path.GetFileName(f).StartsWith("libonnxruntime.so", StringComparison.Ordinal));
        Assert.That(loaded, Is.Not.Null, "libonnxruntime.so is mapped into the process");
        Assert.That(loaded, Does.StartWith(AppContext.BaseDirectory), "the package's runtimes/<rid>/native copy, not a system library");
    }

    [Test]
    public void AvailableProvidersIncludeTheCpuProvider()
    {
        Assert.That(RuntimeEnvironment.AvailableProviders, Does.Contain("CPUExecutionProvider"));
    }

    [Test]
    public void TheEnvironmentIsASingletonWhoseLogLevelCannotChange()
    {
        RuntimeLogLevel level = RuntimeEnvironment.LogLevel;
        Assert.DoesNotThrow(() => RuntimeEnvironment.Initialise(level));
        var other = level == RuntimeLogLevel.Fatal ? RuntimeLogLevel.Verbose : RuntimeLogLevel.Fatal;
        Assert.Throws<InvalidOperationException>(() => RuntimeEnvironment.Initialise(other));
        Assert.That(RuntimeEnvironment.LogLevel, Is.EqualTo(level));
    }

    [Test]
    public void RunsWorkAfterTheEnvironmentWasQueried()
    {
        _ = RuntimeEnvironment.Version;
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul([1f, 2f]));
        using var x = Tensor.Allocate("x", DType.F32, [1, 2]);
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = x });
        Assert.That(outputs["y"].Read<float>().ToArray(), Is.EqualTo(new[] { 1f, 2f }));
    }
}
