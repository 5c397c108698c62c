using Amalgam.Bench.Runtime;
using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Amalgam.Bench.Autodiff;

/// <summary>
/// One forward+backward step of the CLIP-style fixture (all 32 float initializers differentiated,
/// mean-entropy loss, batch 16) through <see cref="GradientSession"/>, against the forward pass
/// alone (the same model in ONNX Runtime, bound buffers) as the baseline. A well-built backward
/// costs about 2x the forward; target <= 3.5x. One intra-op thread on both sides. The machine is
/// shared, so besides BenchmarkDotNet's Ratio (separate processes, minutes apart) the "Paired"
/// column gives the median over 16 interleaved block pairs (forward block, then step block,
/// alternating order) timed in one process in GlobalSetup, which cancels slow load swings.
/// Run: dotnet run -c Release --project bench -- --filter '*GradientStepBenchmark*'
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[Config(typeof(PairedConfig))]
public class GradientStepBenchmark
{
    private const int Batch = 16;
    private static readonly SessionSettings Options = new() { IntraOpThreads = 1, InterOpThreads = 1 };

    private OnnxSession _forward = null!;
    private BoundRun _forwardRun = null!;
    private Tensor _pixels = null!, _logits = null!;
    private GradientSession _gradient = null!;

    [Params("clip_tiny_op17", "clip_tiny_op14")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        string path = Path.Combine(PairedBlocks.RepositoryRoot(), "tests", "fixtures", Model + ".onnx");
        var model = OnnxModel.Load(path);
        _forward = OnnxSession.FromFile(path, Options);
        _pixels = Tensor.Allocate("pixel_values", DType.F32, [Batch, 3, 28, 28]);
        _logits = Tensor.Allocate("logits", DType.F32, [Batch, 10]);
        var px = _pixels.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = MathF.Sin(i * 0.37f);
        _forwardRun = _forward.Bind(new Dictionary<string, Tensor> { ["pixel_values"] = _pixels }, new Dictionary<string, Tensor> { ["logits"] = _logits });

        var parameters = model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
        _gradient = GradientSession.Create(model, new GradientRequest(parameters,
            new Dictionary<string, long[]> { ["pixel_values"] = [Batch, 3, 28, 28] }, GradientLoss.Entropy), Options);
        _pixels.Bytes.CopyTo(Writable(_gradient.Inputs["pixel_values"]));
        MeasurePaired();
    }

    /// <summary>Median of (step time / forward time) over interleaved blocks, stored for the Paired column.</summary>
    private void MeasurePaired(int blocks = 16, int runs = 40)
    {
        static double Time(Action a, int n)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++) a();
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds / n;
        }
        Action forward = Forward, step = () => ForwardBackward();
        Time(forward, runs);
        Time(step, runs);
        var ratios = new List<double>();
        for (int b = 0; b < blocks; b++)
        {
            double f, s;
            if (b % 2 == 0) { f = Time(forward, runs); s = Time(step, runs); }
            else { s = Time(step, runs); f = Time(forward, runs); }
            ratios.Add(s / f);
        }
        ratios.Sort();
        double median = (ratios[blocks / 2 - 1] + ratios[blocks / 2]) / 2;
        Directory.CreateDirectory(Path.GetDirectoryName(ResultFile(Model))!);
        File.WriteAllText(ResultFile(Model), median.ToString("R", CultureInfo.InvariantCulture));
        Console.WriteLine($"// {Model}: step/forward median {median:F2} over {blocks} paired blocks of {runs} runs "
            + $"({string.Join(" ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))})");
    }

    private static string ResultFile(string model) => Path.Combine(Path.GetTempPath(), "amalgam-autodiff-bench", model + ".txt");

    private sealed class PairedConfig : ManualConfig
    {
        public PairedConfig() => AddColumn(new PairedColumn());
    }

    private sealed class PairedColumn : IColumn
    {
        public string Id => "PairedStepOverForward";
        public string ColumnName => "Paired";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Median over 16 interleaved block pairs in one process of (forward+backward step time / forward time)";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            string file = ResultFile((string)benchmarkCase.Parameters["Model"]);
            return File.Exists(file) ? double.Parse(File.ReadAllText(file), CultureInfo.InvariantCulture).ToString("F2", CultureInfo.InvariantCulture) : "n/a";
        }
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
