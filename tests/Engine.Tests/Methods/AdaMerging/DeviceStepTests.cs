using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// The trainer with its step on the ILGPU device (step=device; here ILGPU's CPU accelerator, whose buffers
/// ORT reads and writes in place as it would CUDA's) against the host step on the fixture models with their
/// own heads: the first step's loss to the bit (the merged theta is the host's bits), the gradient to 1e-12
/// relative (float64 dots summed in another order), five steps' coefficients and moments to 1e-6; and the
/// device step gives the same bits at 1 and 2 workers.
/// </summary>
public sealed class DeviceStepTests
{
    /// <param name="staged">Run the device step on a CPU accelerator whose sessions bind separate memory (CUDA's staging path).</param>
    private static (string? Device, ParallelStepTests.Trace Trace) Train(StepBackend backend, Granularity granularity, int threads, bool staged = false)
    {
        int old = Parallelism.MaxThreads;
        Parallelism.MaxThreads = threads;
        try
        {
            using var problem = AdaMergingFixture.Open();
            var options = AdaMergingFixture.Options(granularity, steps: 5, shuffle: true) with { Step = backend, ProbeSamples = 16 };
            using var stepDevice = staged ? Kernels.Device.DeviceContext.Cpu(4, 4, 1, stagedSessions: true) : null;
            using var trainer = AdaMergingTrainer.Create(problem, AdaMergingFixture.Data, options, seed: 3, OnnxIO.Runtime.CpuMemory.SharedArena, default, stepDevice);
            for (int s = 0; s < 5; s++) trainer.Step();
            Assert.That(trainer.Diagnose(), Has.Length.EqualTo(problem.K), "the probe reads theta from the step's buffers");
            var gradient = new double[trainer.Raw.Length];
            trainer.Evaluate(trainer.StepsDone, gradient);
            return (trainer.StepDevice, new ParallelStepTests.Trace(trainer.Raw, trainer.FirstMoment, trainer.SecondMoment, trainer.Losses.ToArray(), gradient));
        }
        finally
        {
            Parallelism.MaxThreads = old;
        }
    }

    private static void Close(float[] actual, float[] expected, double tolerance, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(tolerance * Math.Max(1, Math.Abs(expected[i]))), $"{what}[{i}]");
    }

    [TestCase(Granularity.Layer)]
    [TestCase(Granularity.Task)]
    public void DeviceStepFollowsTheHostStep(Granularity granularity)
    {
        var (hostDevice, host) = Train(StepBackend.Host, granularity, threads: 1);
        var (deviceName, device) = Train(StepBackend.Device, granularity, threads: 1);
        Assert.That(hostDevice, Is.Null);
        Assert.That(deviceName, Is.EqualTo("cpu"));
        Assert.That(device.Losses[0], Is.EqualTo(host.Losses[0]), "same theta bits, same runs");
        for (int s = 1; s < 5; s++) Assert.That(device.Losses[s], Is.EqualTo(host.Losses[s]).Within(1e-6 * Math.Abs(host.Losses[s])), $"loss {s}");
        Assert.That(host.Raw.Distinct().Count(), Is.GreaterThan(1), "the coefficients moved apart");
        Close(device.Raw, host.Raw, 1e-6, "raw");
        Close(device.First, host.First, 1e-6, "first moment");
        Close(device.Second, host.Second, 1e-6, "second moment");
        Assert.That(host.Gradient.Count(g => g != 0), Is.GreaterThan(host.Gradient.Length / 2));
        for (int i = 0; i < host.Gradient.Length; i++)
            Assert.That(device.Gradient[i], Is.EqualTo(host.Gradient[i]).Within(1e-6 * Math.Abs(host.Gradient[i]) + 1e-12), $"gradient[{i}]");
    }

    [Test]
    public void DeviceStepGivesTheSameBitsAtOneAndTwoWorkers()
    {
        var one = Train(StepBackend.Device, Granularity.Layer, threads: 1).Trace;
        var two = Train(StepBackend.Device, Granularity.Layer, threads: 2).Trace;
        one.AssertSameBits(two);
    }

    /// <summary>
    /// With the sessions' theta and gradients in separate memory (as on CUDA, where ORT cannot bind ILGPU's
    /// context's buffers), the staging copies make the step the same to the bit as binding in place, at 1 and 2 workers.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    public void StagedSessionMemoryGivesTheInPlaceBits(int threads)
    {
        var inPlace = Train(StepBackend.Device, Granularity.Layer, threads).Trace;
        var (device, staged) = Train(StepBackend.Device, Granularity.Layer, threads, staged: true);
        Assert.That(device, Is.EqualTo("cpu"));
        inPlace.AssertSameBits(staged);
    }

    /// <summary>`merge --set step=device` end to end (training, then the final merge on the host from the device-trained coefficients).</summary>
    [Test]
    public void MergeWithTheDeviceStepWritesTheHostStepsModels()
    {
        using var dir = Fixtures.NewTempDir();
        MergeResult Run(string step, string name) => Merger.Merge(new MergeRequest
        {
            Method = "adamerging", Base = AdaMergingFixture.Base, Models = AdaMergingFixture.Tasks, Private = AdaMergingFixture.Private,
            Data = AdaMergingFixture.Data, Out = dir.File(name), Seed = 5,
            Set = new Dictionary<string, string> { ["steps"] = "4", ["batch_size"] = "8", ["step"] = step, ["probe_samples"] = "0" },
        });
        using (var report = System.Text.Json.JsonDocument.Parse(Run("host", "host").ToJson()))
            Assert.That(report.RootElement.GetProperty("results").GetProperty("step_kernels").GetString(), Is.EqualTo("host"));
        using (var report = System.Text.Json.JsonDocument.Parse(Run("device", "device").ToJson()))
            Assert.That(report.RootElement.GetProperty("results").GetProperty("step_kernels").GetString(), Is.EqualTo("ilgpu cpu"));
        int compared = 0;
        foreach (string file in Directory.GetFiles(dir.File("host"), "*.onnx"))
        {
            var host = OnnxModel.Load(file);
            var device = OnnxModel.Load(Path.Combine(dir.File("device"), Path.GetFileName(file)));
            foreach (var info in host.ListInitializers())
            {
                using var a = host.ReadInitializer(info.Name);
                using var b = device.ReadInitializer(info.Name);
                if (a.DType != DType.F32) continue;
                var x = a.Read<float>();
                var y = b.Read<float>();
                for (int i = 0; i < x.Length; i++) Assert.That(y[i], Is.EqualTo(x[i]).Within(1e-6 * Math.Max(1, Math.Abs(x[i]))), $"{file}:{info.Name}[{i}]");
                compared++;
            }
        }
        Assert.That(compared, Is.GreaterThan(AdaMergingFixture.K * 30));
    }

    /// <summary>On this CPU build, step=device with --device cuda is ORT's one-line refusal, before anything is written.</summary>
    [Test]
    public void DeviceStepOnCudaWithoutTheGpuBuildIsRefusedInOneLine()
    {
        using var dir = Fixtures.NewTempDir();
        var e = Assert.Throws<OnnxIO.Runtime.DeviceUnavailableException>(() => Merger.Merge(new MergeRequest
        {
            Method = "adamerging", Base = AdaMergingFixture.Base, Models = AdaMergingFixture.Tasks, Private = AdaMergingFixture.Private,
            Data = AdaMergingFixture.Data, Out = dir.File("out"), Device = ComputeDevice.Cuda(),
            Set = new Dictionary<string, string> { ["steps"] = "1", ["step"] = "device" },
        }))!;
        Assert.That(e.Message, Does.Contain("--device cuda").And.Not.Contain("\n"));
        Assert.That(Directory.GetFileSystemEntries(dir.Path), Is.Empty);
    }
}
