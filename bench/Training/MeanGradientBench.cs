using Amalgam.Bench.Runtime;
using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Training;

/// <summary>
/// `amalgam grad` on the CLIP-style fixture (all float initializers, mean entropy, 512 samples in
/// batches of 16, session creation included) with 2 workers (two single-threaded gradient sessions,
/// batches summed in order) against 1 worker as the baseline: the ratio shows what the
/// deterministic worker scheme gains on 2 cores (ideal 0.5).
/// Run: dotnet run -c Release --project bench -- --filter '*MeanGradientBench*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class MeanGradientBench
{
    private const int Batch = 16;

    [Params(512, 4096)]
    public int Samples { get; set; }
    private OnnxModel _model = null!;
    private Tensor _pixels = null!;
    private List<string> _parameters = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = OnnxModel.Load(Path.Combine(PairedBlocks.RepositoryRoot(), "tests", "fixtures", "clip_tiny_op17.onnx"));
        _pixels = Tensor.Allocate("pixel_values", DType.F32, [Samples, 3, 28, 28]);
        var px = _pixels.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = MathF.Sin(i * 0.37f);
        _parameters = _model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
    }

    [GlobalCleanup]
    public void Cleanup() => _pixels.Dispose();

    private double Run(int workers)
    {
        using var result = MeanGradient.Compute(_model, new Dictionary<string, Tensor> { ["pixel_values"] = _pixels }, null,
            GradientLoss.Entropy, _parameters, Batch, workers);
        return result.Loss;
    }

    [Benchmark(Baseline = true)]
    public double OneWorker() => Run(1);

    [Benchmark]
    public double TwoWorkers() => Run(2);
}
