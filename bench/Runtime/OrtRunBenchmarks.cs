using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Previous = Amalgam.Bench.Runtime.PreviousBinding;

namespace Amalgam.Bench.Runtime;

/// <summary>
/// Per-call Run latency of the tiny ViT fixture through our session over the official binding
/// (Microsoft.ML.OnnxRuntime.Managed), against the same call through our previous hand-written binding
/// (bench/Runtime/PreviousBinding, frozen) on the very same libonnxruntime.so, model and thread settings.
/// The "Official/Previous" column is the median ratio over 12 pairs of interleaved blocks timed in
/// GlobalSetup, which cancels the slow load swings of a shared machine; the BenchmarkDotNet columns are
/// the official binding's absolute times. Target: at most 1.05 for every row.
/// Run: dotnet run -c Release --project bench -- --filter '*OrtRunBenchmarks*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[Config(typeof(RatioConfig))]
[MedianColumn]
public class OrtRunBenchmarks
{
    private const int Threads = 1; // same on both sides; 1 keeps the shared 2-core machine's noise down
    private const string InputName = "pixel_values";

    private OnnxSession _session = null!;
    private Tensor _pixels = null!;
    private Tensor _logits = null!;
    private Dictionary<string, Tensor> _feed = null!;
    private Dictionary<string, Tensor> _outputs = null!;
    private BoundRun _bound = null!;

    private Previous.InferenceSession _previous = null!;
    private Previous.BoundRun _previousBound = null!;

    [Params(1, 16)]
    public int Batch { get; set; }

    internal static string Key(string method, int batch) => $"vit_tiny_op17-{method}-b{batch}-t{Threads}";

    // BenchmarkDotNet runs each method in its own process; each setup interleaves the previous binding's
    // blocks with blocks of that method, so every row's ratio compares the two at the same moment.
    [GlobalSetup(Target = nameof(OrtAllocatedOutput))]
    public void SetupOrtAllocated() => Setup(nameof(OrtAllocatedOutput));

    [GlobalSetup(Target = nameof(PreallocatedOutput))]
    public void SetupPreallocated() => Setup(nameof(PreallocatedOutput));

    [GlobalSetup(Target = nameof(BoundRun))]
    public void SetupBound() => Setup(nameof(BoundRun));

    private void Setup(string method)
    {
        string model = Path.Combine(PairedBlocks.RepositoryRoot(), "tests", "fixtures", "vit_tiny_op17.onnx");
        _session = OnnxSession.FromFile(model, new SessionSettings
        {
            IntraOpThreads = Threads,
            InterOpThreads = 1,
            OptimizationLevel = GraphOptimization.All,
        });
        _previous = Previous.InferenceSession.FromFile(model, new Previous.SessionOptions
        {
            IntraOpThreads = Threads,
            InterOpThreads = 1,
            OptimizationLevel = Previous.GraphOptimizationLevel.All,
        });
        _pixels = Tensor.Allocate(InputName, DType.F32, [Batch, 3, 28, 28]);
        Span<float> px = _pixels.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = i % 255 / 255f;
        _logits = Tensor.Allocate("logits", DType.F32, [Batch, 10]);
        _feed = new() { [InputName] = _pixels };
        _outputs = new() { ["logits"] = _logits };
        _bound = _session.Bind(_feed, _outputs);
        _previousBound = _previous.Bind(_feed, _outputs);

        (Action previous, Action official) = method switch
        {
            nameof(OrtAllocatedOutput) => ((Action)(() => { using var o = _previous.Run(_feed); }), (Action)(() => OrtAllocatedOutput())),
            nameof(PreallocatedOutput) => (() => _previous.Run(_feed, _outputs), () => PreallocatedOutput()),
            _ => (() => _previousBound.Run(), () => BoundRun()),
        };
        PairedBlocks.Compare(Key(method, Batch), previous, official, runsPerBlock: Batch == 1 ? 1000 : 200, blocks: 12);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bound.Dispose();
        _session.Dispose();
        _previousBound.Dispose();
        _previous.Dispose();
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

    private sealed class RatioConfig : ManualConfig
    {
        public RatioConfig()
        {
            AddColumn(new PairedColumn(ratio: false), new PairedColumn(ratio: true));
        }
    }

    /// <summary>The previous binding's median per call for the same method and batch, or the official binding's time divided by it.</summary>
    private sealed class PairedColumn(bool ratio) : IColumn
    {
        public string Id => ratio ? "OfficialOverPrevious" : "PreviousMean";
        public string ColumnName => ratio ? "Official/Previous" : "Previous (paired)";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => ratio ? 1 : 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => ratio
            ? "Median over 12 interleaved block pairs of (official binding's time per call / previous binding's), same library, model, batch, threads"
            : "Previous (hand-written) binding's median time per call over the 12 blocks interleaved in GlobalSetup";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            int batch = (int)benchmarkCase.Parameters["Batch"];
            var paired = PairedBlocks.Read(Key(benchmarkCase.Descriptor.WorkloadMethod.Name, batch));
            if (paired is null) return "n/a";
            return ratio ? $"{paired.Value.Ratio:F3}" : $"{paired.Value.BaselineMicroseconds:F1} us";
        }
    }
}
