using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>Failures surface as exceptions carrying ORT's code and message, or our own one-line errors.</summary>
public sealed class SessionErrorTests
{
    private static readonly float[] s_w = [1f, 2f, 3f];

    [Test]
    public void Bad_model_bytes_give_an_OrtException_with_ORTs_message()
    {
        byte[] garbage = "this is not an ONNX model, just text"u8.ToArray();
        var e = Assert.Throws<OrtException>(() => InferenceSession.FromBytes(garbage));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e!.ErrorCode, Is.EqualTo(OrtErrorCode.InvalidProtobuf));
        Assert.That(e.OrtMessage, Is.Not.Empty);
        Assert.That(e.Message, Does.Contain(e.OrtMessage));
    }

    [Test]
    public void Truncated_model_bytes_give_an_OrtException()
    {
        byte[] model = TinyOnnxModels.AddMul(s_w);
        Assert.Throws<OrtException>(() => InferenceSession.FromBytes(model.AsSpan(0, model.Length / 2)));
    }

    [Test]
    public void Missing_model_file_gives_NoSuchFile_naming_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), $"amalgam-missing-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<OrtException>(() => InferenceSession.FromFile(path));
        Assert.That(e!.ErrorCode, Is.EqualTo(OrtErrorCode.NoSuchFile));
        Assert.That(e.OrtMessage, Does.Contain(path));
    }

    [Test]
    public void Wrong_input_name_gives_an_OrtException_naming_it()
    {
        using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
        var e = Assert.Throws<OrtException>(() => session.Run(new Dictionary<string, Tensor> { ["not_x"] = x }).Dispose());
        Assert.That(e!.ErrorCode, Is.EqualTo(OrtErrorCode.InvalidArgument));
        Assert.That(e.OrtMessage, Does.Contain("not_x"));
    }

    [Test]
    public void Wrong_output_name_gives_an_OrtException_naming_it()
    {
        using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
        var e = Assert.Throws<OrtException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }, ["nope"]).Dispose());
        Assert.That(e!.OrtMessage, Does.Contain("nope"));
    }

    [Test]
    public void Wrong_input_shape_gives_an_OrtException()
    {
        using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 5]);
        var e = Assert.Throws<OrtException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }).Dispose());
        Assert.That(e!.ErrorCode, Is.EqualTo(OrtErrorCode.InvalidArgument));
        Assert.That(e.OrtMessage, Does.Contain("dimensions").IgnoreCase);
    }

    [Test]
    public void Wrong_input_dtype_gives_an_OrtException()
    {
        using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F64, [1, 3]);
        var e = Assert.Throws<OrtException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }).Dispose());
        Assert.That(e!.ErrorCode, Is.EqualTo(OrtErrorCode.InvalidArgument));
    }

    [Test]
    public void Preallocated_output_of_the_wrong_shape_gives_an_OrtException()
    {
        using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [2, 3]);
        using var y = Tensor.Allocate("y", DType.F32, [3, 3]);
        Assert.Throws<OrtException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = y }));
    }

    [Test]
    public void A_read_only_output_tensor_is_refused_before_ORT_sees_it()
    {
        string path = Path.GetTempFileName();
        File.WriteAllBytes(path, new byte[64]);
        try
        {
            using var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
            using var storage = new MappedFileStorage(path);
            using var y = Tensor.View("y", DType.F32, [1, 3], storage, 0);
            using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
            var e = Assert.Throws<ArgumentException>(() =>
                session.Run(new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = y }));
            Assert.That(e!.Message, Does.Contain("'y'"));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void Running_a_disposed_session_throws_ObjectDisposedException()
    {
        var session = InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }).Dispose());
    }

    [TestCase(-1, 0, 0)]
    [TestCase(0, -2, 0)]
    [TestCase(0, 0, -1)]
    public void Negative_thread_counts_or_device_ids_are_bad_input(int intra, int inter, int device)
    {
        var options = new SessionOptions { IntraOpThreads = intra, InterOpThreads = inter, DeviceId = device };
        var e = Assert.Throws<BadInputException>(() => InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w), options));
        Assert.That(e!.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Cuda_on_a_library_that_cannot_run_it_is_one_clear_line()
    {
        // This library lists CUDAExecutionProvider but ships without libonnxruntime_providers_cuda.so
        // (the npm package downloads it separately); either way the user sees the same first words.
        var options = new SessionOptions { Device = ExecutionDevice.Cuda };
        var e = Assert.Throws<OrtProviderUnavailableException>(() => InferenceSession.FromBytes(TinyOnnxModels.AddMul(s_w), options));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Message, Does.StartWith(SessionOptions.NoCudaMessage));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(e, Is.InstanceOf<BadInputException>());
    }

    [Test]
    public void Cuda_provider_library_check_looks_beside_the_loaded_ort_library()
    {
        string dir = Directory.CreateTempSubdirectory("amalgam-ort-").FullName;
        try
        {
            string ort = Path.Combine(dir, "libonnxruntime.so.1");
            Assert.That(SessionOptions.MissingProviderLibrary(ort), Is.EqualTo("libonnxruntime_providers_cuda.so"));
            File.WriteAllBytes(Path.Combine(dir, "libonnxruntime_providers_cuda.so"), []);
            Assert.That(SessionOptions.MissingProviderLibrary(ort), Is.Null);
            Assert.That(SessionOptions.MissingProviderLibrary("libonnxruntime.so.1"), Is.Null, "system-loaded: location unknown, let ORT decide");
        }
        finally { Directory.Delete(dir, true); }
    }
}
