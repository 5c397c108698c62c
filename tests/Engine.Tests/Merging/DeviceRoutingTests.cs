using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Evaluation;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Engine.Tests.Methods.AdaMerging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Tests.Merging;

/// <summary>
/// The requested device reaches every ONNX Runtime session an engine call creates: on a build
/// without the CUDA provider, asking for CUDA fails at session creation with the one-line
/// DeviceUnavailableException (a call that silently ran on the CPU would return a result instead),
/// and a merge that fails so writes nothing. On the GPU flavour these calls run on CUDA instead;
/// bench/gpu/check.sh covers that.
/// </summary>
public sealed class DeviceRoutingTests
{
    private static readonly ComputeDevice Cuda = ComputeDevice.Cuda(0);

    [SetUp]
    public void CpuBuildOnly()
    {
        if (RuntimeEnvironment.HasCudaProvider) Assert.Ignore("GPU flavour: bench/gpu/check.sh runs these calls on CUDA");
    }

    /// <summary>Settings that fit the fixture's 32 samples per task.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Quick = new()
    {
        ["regmean"] = new() { ["samples"] = "32" },
        ["fisher"] = new() { ["samples"] = "8" },
        ["cat"] = new() { ["samples"] = "8" },
        ["adamerging"] = new() { ["steps"] = "1", ["batch_size"] = "8" },
    };

    public static IEnumerable<string> DataMethods => MethodRegistry.All.Where(m => m.NeedsData).Select(m => m.Name);

    [TestCaseSource(nameof(DataMethods))]
    public void ADataDependentMergeRunsItsSessionsOnTheRequestedDevice(string method)
    {
        using var dir = Fixtures.NewTempDir();
        string output = dir.File("out");
        var request = new MergeRequest
        {
            Method = method, Base = AdaMergingFixture.Base, Models = AdaMergingFixture.Tasks, Data = AdaMergingFixture.Data,
            Private = AdaMergingFixture.Private, Out = output, Device = Cuda,
            Set = Quick[method],
        };
        var e = Assert.Throws<DeviceUnavailableException>(() => Merger.Merge(request))!;
        Assert.That(e.Message, Does.Contain("--device cuda").And.Contain("no CUDA provider").And.Not.Contain("\n"));
        Assert.That(Directory.Exists(output) || File.Exists(output), Is.False);
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.Empty);
    }

    [Test]
    public void TheSameMergeOnTheCpuDeviceSucceeds()
    {
        using var dir = Fixtures.NewTempDir();
        var result = Merger.Merge(new MergeRequest
        {
            Method = "regmean", Base = AdaMergingFixture.Base, Models = AdaMergingFixture.Tasks, Data = AdaMergingFixture.Data,
            Private = AdaMergingFixture.Private, Out = dir.File("out"), Device = ComputeDevice.Cpu, Set = Quick["regmean"],
        });
        Assert.That(result.Outputs, Has.Count.EqualTo(AdaMergingFixture.K));
    }

    [Test]
    public void EvaluationRunsOnTheRequestedDevice()
    {
        using var dir = Fixtures.NewTempDir();
        var (model, data, labels) = Classifier(dir);
        Assert.That(Evaluator.Evaluate(model, data, labels, device: ComputeDevice.Cpu).Count, Is.EqualTo(Samples));
        Assert.Throws<DeviceUnavailableException>(() => Evaluator.Evaluate(model, data, labels, device: Cuda));
    }

    [Test]
    public void GradientsRunOnTheRequestedDevice()
    {
        using var dir = Fixtures.NewTempDir();
        var (model, data, _) = Classifier(dir);
        var request = new GradRequest { Model = model, Data = data, Loss = GradientLoss.Entropy, Out = dir.File("g.safetensors"), Device = Cuda };
        Assert.Throws<DeviceUnavailableException>(() => GradRunner.Run(request));
        Assert.That(File.Exists(request.Out), Is.False);
        GradRunner.Run(request with { Device = ComputeDevice.Cpu });
        Assert.That(File.Exists(request.Out), Is.True);
    }

    private const int Samples = 12;

    private static (string Model, string Data, string Labels) Classifier(Fixtures.TempDir dir)
    {
        new TanhMlp(3).Save(dir.File("m.onnx"));
        TanhMlp.Inputs(Samples, 4, dir.File("x.npy"));
        TanhMlp.WriteLabels(dir.File("y.npy"), Enumerable.Range(0, Samples).Select(i => (long)(i % 3)).ToArray());
        return (dir.File("m.onnx"), dir.File("x.npy"), dir.File("y.npy"));
    }
}
