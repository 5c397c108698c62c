using Amalgam.Bench.Runtime;
using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Methods.Fisher;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Fisher;

/// <summary>
/// Cost per sample of the diagonal Fisher (<see cref="FisherEstimator.Compute"/>: a batch-1
/// forward+backward of log p(argmax) per sample, squares added in f64, one worker; the gradient
/// graph is built once per call, included) against a plain batch-1 forward of the same model
/// (bound buffers, one intra-op thread) as the baseline, on the CLIP-style fixture with every float
/// initializer differentiated. `GradientStepOnly` is the batch-1 step with the session built once, to
/// split the Fisher cost into step and per-call overhead; `FisherPerSampleReusedSessions` is how a
/// merge runs it (sessions built once for all tasks). All report time per sample (OperationsPerInvoke = Samples).
/// Run: dotnet run -c Release --project bench -- --filter '*FisherBenchmark*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class FisherBenchmark
{
    private const int Samples = 256;
    private static readonly SessionSettings Options = new() { IntraOpThreads = 1, InterOpThreads = 1 };

    private OnnxModel _model = null!;
    private List<string> _parameters = null!;
    private Tensor _data = null!, _one = null!, _logits = null!;
    private OnnxSession _forward = null!;
    private BoundRun _forwardRun = null!;
    private GradientSession _step = null!;

    [Params("clip_tiny_op17")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(PairedBlocks.RepositoryRoot(), "tests", "fixtures", Model + ".onnx");
        _model = OnnxModel.Load(path);
        _parameters = _model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
        _data = Tensor.Allocate("pixel_values", DType.F32, [Samples, 3, 28, 28]);
        var px = _data.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = MathF.Sin(i * 0.37f);
        _one = Tensor.Allocate("pixel_values", DType.F32, [1, 3, 28, 28]);
        _logits = Tensor.Allocate("logits", DType.F32, [1, 10]);
        _forward = OnnxSession.FromFile(path, Options);
        _forwardRun = _forward.Bind(new Dictionary<string, Tensor> { ["pixel_values"] = _one }, new Dictionary<string, Tensor> { ["logits"] = _logits });
        _step = GradientSession.Create(_model, new GradientRequest(_parameters,
            new Dictionary<string, long[]> { ["pixel_values"] = [1, 3, 28, 28] }, GradientLoss.ArgmaxLogProbability), Options);
    }

    /// <summary>The batch-1 forward+backward alone (session built once), to separate the step from the per-call graph build and the squares.</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    public void GradientStepOnly()
    {
        long row = _one.ByteLength;
        var input = _step.Inputs["pixel_values"];
        for (int s = 0; s < Samples; s++)
        {
            _data.Read<byte>(s * row, (int)row).CopyTo(input.Write<byte>());
            _step.Step();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Samples)]
    public void Forward()
    {
        long row = _one.ByteLength;
        for (int s = 0; s < Samples; s++)
        {
            _data.Read<byte>(s * row, (int)row).CopyTo(_one.Write<byte>());
            _forwardRun.Run();
        }
    }

    [Benchmark(OperationsPerInvoke = Samples)]
    public void FisherPerSample()
    {
        var f = FisherEstimator.Compute(_model, new Dictionary<string, Tensor> { ["pixel_values"] = _data }, _parameters, Samples, workers: 1);
        foreach (var t in f.Values) t.Dispose();
    }

    private FisherEstimator? _reused;

    /// <summary>As a merge runs it: the estimator (its sessions) built once for all task models, so only the steps and squares count.</summary>
    [Benchmark(OperationsPerInvoke = Samples)]
    public void FisherPerSampleReusedSessions()
    {
        _reused ??= new FisherEstimator(_model, _parameters);
        var f = _reused.Compute(_model, new Dictionary<string, Tensor> { ["pixel_values"] = _data }, Samples, workers: 1);
        foreach (var t in f.Values) t.Dispose();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reused?.Dispose();
        _step.Dispose();
        _forwardRun.Dispose();
        _forward.Dispose();
        _data.Dispose();
        _one.Dispose();
        _logits.Dispose();
    }
}
