using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>Failures surface as exceptions carrying ORT's code and message, or our own one-line errors.</summary>
public sealed class SessionErrorTests
{
    private static readonly float[] s_w = [1f, 2f, 3f];

    [Test]
    public void BadModelBytesGiveAnOrtExceptionWithORTsMessage()
    {
        byte[] garbage = "this is not an ONNX model, just text"u8.ToArray();
        var e = Assert.Throws<RuntimeCallException>(() => OnnxSession.FromBytes(garbage));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e!.ErrorCode, Is.EqualTo(RuntimeErrorCode.InvalidProtobuf));
        Assert.That(e.RuntimeMessage, Is.Not.Empty);
        Assert.That(e.Message, Does.Contain(e.RuntimeMessage));
    }

    [Test]
    public void TruncatedModelBytesGiveAnOrtException()
    {
        byte[] model = TinyOnnxModels.AddMul(s_w);
        Assert.Throws<RuntimeCallException>(() => OnnxSession.FromBytes(model.AsSpan(0, model.Length / 2)));
    }

    [Test]
    public void MissingModelFileGivesNoSuchFileNamingThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), $"amalgam-missing-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<RuntimeCallException>(() => OnnxSession.FromFile(path));
        Assert.That(e!.ErrorCode, Is.EqualTo(RuntimeErrorCode.NoSuchFile));
        Assert.That(e.RuntimeMessage, Does.Contain(path));
    }

    [Test]
    public void WrongInputNameGivesAnOrtExceptionNamingIt()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
        var e = Assert.Throws<RuntimeCallException>(() => session.Run(new Dictionary<string, Tensor> { ["not_x"] = x }).Dispose());
        Assert.That(e!.ErrorCode, Is.EqualTo(RuntimeErrorCode.InvalidArgument));
        Assert.That(e.RuntimeMessage, Does.Contain("not_x"));
    }

    [Test]
    public void WrongOutputNameGivesAnOrtExceptionNamingIt()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
        var e = Assert.Throws<RuntimeCallException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }, ["nope"]).Dispose());
        Assert.That(e!.RuntimeMessage, Does.Contain("nope"));
    }

    [Test]
    public void WrongInputShapeGivesAnOrtException()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 5]);
        var e = Assert.Throws<RuntimeCallException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }).Dispose());
        Assert.That(e!.ErrorCode, Is.EqualTo(RuntimeErrorCode.InvalidArgument));
        Assert.That(e.RuntimeMessage, Does.Contain("dimensions").IgnoreCase);
    }

    [Test]
    public void WrongInputDtypeGivesAnOrtException()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F64, [1, 3]);
        var e = Assert.Throws<RuntimeCallException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }).Dispose());
        Assert.That(e!.ErrorCode, Is.EqualTo(RuntimeErrorCode.InvalidArgument));
    }

    [Test]
    public void PreallocatedOutputOfTheWrongShapeGivesAnOrtException()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [2, 3]);
        using var y = Tensor.Allocate("y", DType.F32, [3, 3]);
        Assert.Throws<RuntimeCallException>(() =>
            session.Run(new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = y }));
    }

    [Test]
    public void AReadOnlyOutputTensorIsRefusedBeforeORTSeesIt()
    {
        string path = Path.GetTempFileName();
        File.WriteAllBytes(path, new byte[64]);
        try
        {
            using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
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
    public void RunningADisposedSessionThrowsObjectDisposedException()
    {
        var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = Tensor.Allocate("x", DType.F32, [1, 3]);
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = x }).Dispose());
    }

    [Test]
    public void ErrorsNameTheModelFileOnOneLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"amalgam-bad-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "not a model\nsecond line");
        try
        {
            var e = Assert.Throws<RuntimeCallException>(() => OnnxSession.FromFile(path));
            Assert.That(e!.Message, Does.StartWith(path + ": ONNX Runtime error "));
            Assert.That(e.Model, Is.EqualTo(path));
            Assert.That(e.Message, Does.Not.Contain("\n"));
            Assert.That(e.Message, Does.Not.Contain("[ErrorCode:"), "the binding's prefix is read into ErrorCode, not repeated");
        }
        finally { File.Delete(path); }
    }

    [TestCase(-1, 0, 0)]
    [TestCase(0, -2, 0)]
    [TestCase(0, 0, -1)]
    public void NegativeThreadCountsOrDeviceIdsAreBadInput(int intra, int inter, int device)
    {
        var options = new SessionSettings { IntraOpThreads = intra, InterOpThreads = inter, Device = new ComputeDevice(device < 0 ? DeviceKind.Cuda : DeviceKind.Cpu, device) };
        var e = Assert.Throws<BadInputException>(() => OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w), options));
        Assert.That(e!.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void CudaOnABuildOrMachineThatCannotRunItIsOneClearLine()
    {
        // The CPU build has no CUDA provider; the GPU flavour on a machine without a GPU or CUDA libraries
        // fails to start it. Either way: one line, a BadInputException (exit 2), saying what is missing.
        if (CudaReallyRuns()) Assert.Ignore("a CUDA device is present and working");
        var options = new SessionSettings { Device = ComputeDevice.Cuda() };
        var e = Assert.Throws<DeviceUnavailableException>(() => OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w), options));
        TestContext.Out.WriteLine(e!.Message);
        Assert.That(e.Message, Does.StartWith("--device cuda"));
        Assert.That(e.Message, RuntimeEnvironment.HasCudaProvider ? Does.Contain("cannot start") : Does.StartWith(SessionSettings.NoCudaMessage));
        Assert.That(e.Message, Does.Not.Contain("\n"));
        Assert.That(e, Is.InstanceOf<BadInputException>());
    }

    [TestCase("cpu", DeviceKind.Cpu, 0)]
    [TestCase("cuda", DeviceKind.Cuda, 0)]
    [TestCase("CUDA:3", DeviceKind.Cuda, 3)]
    public void DeviceNamesParse(string text, DeviceKind kind, int id)
    {
        Assert.That(ComputeDevice.Parse(text), Is.EqualTo(new ComputeDevice(kind, id)));
    }

    [TestCase("gpu")]
    [TestCase("cuda:")]
    [TestCase("cuda:-1")]
    [TestCase("cuda:x")]
    public void BadDeviceNamesAreOneLineNamingTheOption(string text)
    {
        var e = Assert.Throws<BadInputException>(() => ComputeDevice.Parse(text));
        Assert.That(e!.Message, Does.StartWith($"--device {text}:"));
    }

    private static bool CudaReallyRuns()
    {
        if (!RuntimeEnvironment.HasCudaProvider) return false;
        try
        {
            using var s = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w), new SessionSettings { Device = ComputeDevice.Cuda() });
            return true;
        }
        catch (DeviceUnavailableException) { return false; }
    }
}
