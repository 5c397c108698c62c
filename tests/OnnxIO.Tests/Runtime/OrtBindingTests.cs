using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>The native layer: library loading, the function table, status conversion, the environment.</summary>
public sealed unsafe class OrtBindingTests
{
    [Test]
    public void Loaded_library_is_onnx_runtime_1_30_0()
    {
        Assert.That(OrtEnvironment.Instance.Version, Is.EqualTo("1.30.0"));
        Assert.That(OrtApi.Instance.VersionString, Is.EqualTo("1.30.0"));
    }

    [Test]
    public void Build_copies_the_library_into_the_application_folder_and_the_loader_prefers_it()
    {
        string expected = Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so.1");
        Assert.That(File.Exists(expected), Is.True, "the OnnxIO csproj should copy the cached library beside the tests");
        var loaded = OrtLibraryLoader.Load(null, AppContext.BaseDirectory, OrtLibraryLoader.PlatformFileNames);
        Assert.That(loaded.Path, Is.EqualTo(expected));
        Assert.That(loaded.GetApiBase, Is.Not.EqualTo(IntPtr.Zero));
    }

    [Test]
    public void Explicit_library_path_is_used_first()
    {
        string real = Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so.1");
        string empty = Directory.CreateTempSubdirectory("amalgam-ort-").FullName;
        try
        {
            var loaded = OrtLibraryLoader.Load(real, empty, ["libamalgam-no-such-ort.so.1"]);
            Assert.That(loaded.Path, Is.EqualTo(real));
        }
        finally { Directory.Delete(empty, true); }
    }

    [Test]
    public void Explicit_library_path_that_does_not_load_is_a_one_line_error_naming_the_variable_and_the_fix()
    {
        var e = Assert.Throws<OrtLibraryNotFoundException>(() =>
            OrtLibraryLoader.Load("/nonexistent/dir/libonnxruntime.so.1", AppContext.BaseDirectory, OrtLibraryLoader.PlatformFileNames));
        Assert.That(e!.Message, Does.StartWith("AMALGAM_ORT_LIBRARY=/nonexistent/dir/libonnxruntime.so.1"));
        Assert.That(e.Message, Does.Contain("./build.sh --target=Bootstrap"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(e, Is.InstanceOf<BadInputException>());
    }

    [Test]
    public void A_library_without_OrtGetApiBase_is_rejected()
    {
        // libm is on every glibc system and certainly is not ONNX Runtime.
        var e = Assert.Throws<OrtLibraryNotFoundException>(() =>
            OrtLibraryLoader.Load("libm.so.6", AppContext.BaseDirectory, OrtLibraryLoader.PlatformFileNames));
        Assert.That(e!.Message, Does.Contain("no OrtGetApiBase export"));
    }

    [Test]
    public void Nothing_found_is_a_one_line_error_saying_how_to_fix_it()
    {
        string empty = Directory.CreateTempSubdirectory("amalgam-ort-").FullName;
        try
        {
            var e = Assert.Throws<OrtLibraryNotFoundException>(() =>
                OrtLibraryLoader.Load(null, empty, ["libamalgam-no-such-ort.so.1"]));
            Assert.That(e!.Message, Does.Contain("./build.sh --target=Bootstrap"));
            Assert.That(e.Message, Does.Contain("AMALGAM_ORT_LIBRARY"));
            Assert.That(e.Message, Does.Contain(empty));
            Assert.That(e.Message, Does.Not.Contain("\n"));
        }
        finally { Directory.Delete(empty, true); }
    }

    [TestCase(OrtErrorCode.InvalidArgument, "bad argument 42")]
    [TestCase(OrtErrorCode.NoSuchFile, "missing.onnx")]
    [TestCase(OrtErrorCode.EpFail, "ünïcödé message")]
    public void A_failed_status_becomes_an_OrtException_with_ORTs_code_and_message(OrtErrorCode code, string message)
    {
        OrtApi api = OrtApi.Instance;
        IntPtr status;
        fixed (byte* m = OrtEnvironment.Utf8Z(message)) status = api.CreateStatus(code, m);
        Assert.That(status, Is.Not.EqualTo(IntPtr.Zero));
        var e = Assert.Throws<OrtException>(() => api.Check(status)); // Check also releases the status
        Assert.That(e!.ErrorCode, Is.EqualTo(code));
        Assert.That(e.OrtMessage, Is.EqualTo(message));
        Assert.That(e.Message, Does.Contain(message));
    }

    [Test]
    public void A_null_status_is_success()
    {
        Assert.DoesNotThrow(() => OrtApi.Instance.Check(IntPtr.Zero));
    }

    [Test]
    public void Available_providers_include_the_cpu_provider()
    {
        Assert.That(OrtEnvironment.Instance.AvailableProviders, Does.Contain("CPUExecutionProvider"));
    }

    [Test]
    public void The_environment_is_a_singleton_whose_log_level_cannot_change()
    {
        OrtEnvironment env = OrtEnvironment.Instance;
        Assert.That(OrtEnvironment.Initialise(env.LogLevel), Is.SameAs(env));
        Assert.That(OrtEnvironment.Instance, Is.SameAs(env));
        var other = env.LogLevel == OrtLogLevel.Fatal ? OrtLogLevel.Verbose : OrtLogLevel.Fatal;
        Assert.Throws<InvalidOperationException>(() => OrtEnvironment.Initialise(other));
    }

    [Test]
    public void A_second_env_reference_can_be_created_and_released_without_harming_the_first()
    {
        OrtApi api = OrtApi.Instance;
        _ = OrtEnvironment.Instance;
        IntPtr env;
        fixed (byte* id = "second\0"u8) api.Check(api.CreateEnv((int)OrtLogLevel.Error, id, &env));
        new OrtEnvHandle(env).Dispose(); // ReleaseEnv: ORT reference-counts its one environment

        using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul([1f, 2f]));
        using var x = Tensor.Allocate("x", DType.F32, [1, 2]);
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = x });
        Assert.That(outputs["y"].Read<float>().ToArray(), Is.EqualTo(new[] { 1f, 2f }));
    }
}
