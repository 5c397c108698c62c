using Amalgam.Bench.Runtime;
using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Autodiff;

/// <summary>
/// One forward+backward step of the CLIP-style fixture (all 32 float initializers differentiated,
/// mean-entropy loss, batch 16) through <see cref="GradientSession"/>, against the forward pass
/// alone (the same model in ONNX Runtime, bound buffers) as the baseline. Report the Ratio column;
/// a well-built backward costs about 2x the forward, target <= 3.5x. One intra-op thread on both
/// sides (the machine is shared).
/// Run: dotnet run -c Release --project bench -- --filter '*GradientStepBenchmark*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class GradientStepBenchmark
{
    private const int Batch = 16;
    private static readonly SessionOptions Options = new() { IntraOpThreads = 1, InterOpThreads = 1 };

    private InferenceSession _forward = null!;
    private BoundRun _forwardRun = null!;
    private Tensor _pixels = null!, _logits = null!;
    private GradientSession _gradient = null!;

    [Params("clip_tiny_op17", "clip_tiny_op14")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(NodeOrtReference.RepositoryRoot(), "tests", "fixtures", Model + ".onnx");
        var model = OnnxModel.Load(path);
        _forward = InferenceSession.FromFile(path, Options);
        _pixels = Tensor.Allocate("pixel_values", DType.F32, [Batch, 3, 28, 28]);
        _logits = Tensor.Allocate("logits", DType.F32, [Batch, 10]);
        var px = _pixels.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = MathF.Sin(i * 0.37f);
        _forwardRun = _forward.Bind(new Dictionary<string, Tensor> { ["pixel_values"] = _pixels }, new Dictionary<string, Tensor> { ["logits"] = _logits });

        var parameters = model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
        _gradient = GradientSession.Create(model, new GradientRequest(parameters,
            new Dictionary<string, long[]> { ["pixel_values"] = [Batch, 3, 28, 28] }, GradientLoss.Entropy), Options);
        _pixels.Bytes.CopyTo(Writable(_gradient.Inputs["pixel_values"]));
    }

    private static unsafe Span<byte> Writable(Tensor t) => new(t.Pointer, checked((int)t.ByteLength));

    [Benchmark(Baseline = true)]
    public void Forward() => _forwardRun.Run();

    [Benchmark]
    public double ForwardBackward() => _gradient.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        _gradient.Dispose();
        _forwardRun.Dispose();
        _forward.Dispose();
        _pixels.Dispose();
        _logits.Dispose();
    }
}
