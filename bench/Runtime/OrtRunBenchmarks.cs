using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Amalgam.Bench.Runtime;

/// <summary>
/// Per-call Run latency of the tiny ViT fixture through our ORT binding, against the same model, library
/// version and thread settings run in a loop by ONNX Runtime's own Node binding (measured in each GlobalSetup).
/// The "Ours/Node" column is the median ratio over 12 pairs of interleaved blocks (node's block, then ours,
/// alternating order) timed in GlobalSetup, which cancels the slow load swings of a shared machine; the
/// BenchmarkDotNet columns are our own absolute times. Target: at most 1.05 for the comparable
/// ORT-allocated run.
/// Run: dotnet run -c Release --project bench -- --filter '*OrtRunBenchmarks*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[Config(typeof(NodeRatioConfig))]
[MedianColumn]
public class OrtRunBenchmarks
{
    private const int Threads = 1; // same on both sides; 1 keeps the shared 2-core machine's noise down
    private const string Level = "all";
    private const string InputName = "pixel_values";

    private InferenceSession _session = null!;
    private Tensor _pixels = null!;
    private Tensor _logits = null!;
    private Dictionary<string, Tensor> _feed = null!;
    private Dictionary<string, Tensor> _outputs = null!;
    private BoundRun _bound = null!;

    [Params(1, 16)]
    public int Batch { get; set; }

    internal static string Key(string method, int batch) => $"vit_tiny_op17-{method}-b{batch}-t{Threads}";

    // BenchmarkDotNet runs each method in its own process; each setup interleaves node's blocks with blocks
    // of that method, so every row's ratio compares the two on the same (shared, noisy) machine at once.
    [GlobalSetup(Target = nameof(OrtAllocatedOutput))]
    public void SetupOrtAllocated() => Setup(nameof(OrtAllocatedOutput));

    [GlobalSetup(Target = nameof(PreallocatedOutput))]
    public void SetupPreallocated() => Setup(nameof(PreallocatedOutput));

    [GlobalSetup(Target = nameof(BoundRun))]
    public void SetupBound() => Setup(nameof(BoundRun));

    private void Setup(string method)
    {
        string model = Path.Combine(NodeOrtReference.RepositoryRoot(), "tests", "fixtures", "vit_tiny_op17.onnx");
        _session = InferenceSession.FromFile(model, new SessionOptions
        {
            IntraOpThreads = Threads,
            InterOpThreads = 1,
            OptimizationLevel = GraphOptimizationLevel.All,
        });
        _pixels = Tensor.Allocate(InputName, DType.F32, [Batch, 3, 28, 28]);
        Span<float> px = _pixels.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = i % 255 / 255f; // the ramp the node script uses
        _logits = Tensor.Allocate("logits", DType.F32, [Batch, 10]);
        _feed = new() { [InputName] = _pixels };
        _outputs = new() { ["logits"] = _logits };
        _bound = _session.Bind(_feed, _outputs);

        Action ours = method switch
        {
            nameof(OrtAllocatedOutput) => () => OrtAllocatedOutput(),
            nameof(PreallocatedOutput) => () => PreallocatedOutput(),
            _ => () => BoundRun(),
        };
        NodeOrtReference.ComparePaired(Key(method, Batch), model, InputName, Batch, Threads, Level, ours,
            runsPerBlock: Batch == 1 ? 1000 : 200, blocks: 12);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bound.Dispose();
        _session.Dispose();
        _pixels.Dispose();
        _logits.Dispose();
    }

    /// <summary>What node does per call: wrap the input, let ORT allocate the output, hand it back.</summary>
    [Benchmark(Baseline = true)]
    public float OrtAllocatedOutput()
    {
        using var outputs = _session.Run(_feed);
        return outputs[0].Read<float>()[0];
    }

    /// <summary>Output written into our pre-allocated tensor (no output allocation).</summary>
    [Benchmark]
    public float PreallocatedOutput()
    {
        _session.Run(_feed, _outputs);
        return _logits.Read<float>()[0];
    }

    /// <summary>OrtValues and names bound once; each call is one native Run.</summary>
    [Benchmark]
    public float BoundRun()
    {
        _bound.Run();
        return _logits.Read<float>()[0];
    }

    private sealed class NodeRatioConfig : ManualConfig
    {
        public NodeRatioConfig()
        {
            AddColumn(new NodeColumn(ratio: false), new NodeColumn(ratio: true));
        }
    }

    /// <summary>Node's mean per call for the same batch, or our mean divided by it.</summary>
    private sealed class NodeColumn(bool ratio) : IColumn
    {
        public string Id => ratio ? "OursOverNode" : "NodeMean";
        public string ColumnName => ratio ? "Ours/Node" : "Node (paired)";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => ratio ? 1 : 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => ratio
            ? "Median over 12 interleaved block pairs of (our time per call / onnxruntime-node's), same model, batch, threads"
            : "onnxruntime-node 1.30.0 median time per call over the 12 blocks interleaved with ours in GlobalSetup";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            int batch = (int)benchmarkCase.Parameters["Batch"];
            var paired = NodeOrtReference.Read(Key(benchmarkCase.Descriptor.WorkloadMethod.Name, batch));
            if (paired is null) return "n/a";
            return ratio ? $"{paired.Value.Ratio:F3}" : $"{paired.Value.NodeMicroseconds:F1} us";
        }
    }
}
