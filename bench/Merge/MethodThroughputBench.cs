using System.Runtime.InteropServices;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;
using BenchmarkDotNet.Attributes;
using TaskArithmetic = Amalgam.Kernels.Merge.TaskArithmetic;
using Ties = Amalgam.Kernels.Merge.Ties;

namespace Amalgam.Bench.Merge;

/// <summary>
/// The kernel-throughput figure: the merge pass of task_arithmetic and of TIES (global
/// scope; thresholds and the majority zero-sign precomputed, as after the prepasses) at K = 8 over
/// tensors of 16M elements (64 MiB f32 each, far out of cache), multi-threaded on all cores with
/// ParallelChunks, with f32 inputs and with bf16 inputs converted to f32 tile by tile inside the
/// timed region. The bound, measured in the same run, is a plain multi-threaded copy
/// (Buffer.MemoryCopy per chunk) of the 9 f32 inputs into one 64 MiB buffer.
///
/// Bytes per run (Mi = 2^20): copy reads 9 x 64 MiB = 576 MiB and writes 576 MiB. Kernels read
/// theta0 + 8 tasks = 576 MiB (f32) or 288 MiB (bf16) and write the f32 result, 64 MiB.
/// Report, from the Mean column: (a) read ratio = (kernel bytes read / t_kernel) / (576 MiB / t_copy);
/// (b) traffic ratio = ((read + written) / t_kernel) / (1152 MiB / t_copy).
/// `TaskArithmeticBf16WholeTensor` converts each whole tensor to f32 first and then runs the f32
/// kernel, which is what the executor's Float32Loader did before methods read tiles (extra 4 B
/// written + read per element).
/// The `*Method*` benchmarks run what `amalgam merge` runs: the real method classes
/// (<see cref="Engine.Methods.TaskArithmeticMethod"/>, and the merge pass of <see cref="Engine.Methods.TiesMethod"/>
/// with fusionbench defaults, k 0.2, thresholds and majority sign from its own prepasses run in setup)
/// over a <see cref="TensorGroup"/> holding the inputs in their stored dtype: with all-bf16 tasks the
/// methods read them in place with the fused <see cref="Bf16Merge"/> kernels (theta0 converted per
/// tile), so the bf16 method rows measure those kernels, not per-tile conversion (TIES:
/// <see cref="Bf16Merge.TiesMerge"/>, trim + elect + merge + theta0 in one pass; `TiesBf16` is the older
/// convert-then-f32-kernels sequence, kept for comparison).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[Config(typeof(Columns))]
public unsafe class MethodThroughputBench
{
    private const double MiB = 1 << 20;

    /// <summary>Bytes read and written per call, by benchmark (see the class comment).</summary>
    private static readonly Dictionary<string, (double Read, double Written)> Bytes = new()
    {
        [nameof(CopyInputs)] = (576 * MiB, 576 * MiB),
        [nameof(TaskArithmeticF32)] = (576 * MiB, 64 * MiB),
        [nameof(TaskArithmeticBf16)] = (288 * MiB, 64 * MiB),
        [nameof(TaskArithmeticBf16WholeTensor)] = (288 * MiB, 64 * MiB),   // counted as the tile variant: input bytes in, result out
        [nameof(TiesF32)] = (576 * MiB, 64 * MiB),
        [nameof(TiesBf16)] = (288 * MiB, 64 * MiB),
        [nameof(TaskArithmeticMethodF32)] = (576 * MiB, 64 * MiB),
        [nameof(TaskArithmeticMethodBf16)] = (288 * MiB, 64 * MiB),
        [nameof(TiesMethodF32)] = (576 * MiB, 64 * MiB),
        [nameof(TiesMethodBf16)] = (288 * MiB, 64 * MiB),
    };

    private sealed class Columns : BenchmarkDotNet.Configs.ManualConfig
    {
        public Columns()
        {
            AddColumn(new BandwidthRatioColumn("Read ratio", false, Bytes));
            AddColumn(new BandwidthRatioColumn("Traffic ratio", true, Bytes));
        }
    }

    private const int K = 8;
    private const int Elements = 16 << 20;
    private const int Tile = 8 << 10;          // per-task tiles of the fused kernels: 9 x 32 KiB + scratch fit L2
    private const float Lambda = 0.3f;
    private static readonly float[] Weights = [1, 1, 1, 1, 1, 1, 1, 1];
    // |tau| of uniform(-0.5, 0.5) differences is triangular on [0, 1]: P(|tau| >= t) = (1 - t)^2 = 0.2 at t = 0.5528.
    private static readonly float[] Thresholds = Enumerable.Repeat(0.5528f, K).ToArray();

    private Tensor[] _tensors = [];             // owners of _f32, _bf16 and _output
    private TensorGroup? _groupF32, _groupBf16;
    private Tensor? _merged;
    private Engine.Methods.TaskArithmeticMethod? _taskArithmetic;
    private Engine.Methods.TiesMethod? _tiesF32, _tiesBf16;
    private float*[] _f32 = [];                 // [0] = theta0, [1..K] = tasks
    private ushort*[] _bf16 = [];
    private float*[] _wholeF32 = [];            // whole-tensor f32 copies for the executor-style variant
    private float* _output;
    private float* _copyTarget;
    private readonly ChunkPlan _plan = ChunkPlan.For<float>(Elements);

    [ThreadStatic] private static float[]? t_scratch;

    [GlobalSetup]
    public void Setup()
    {
        _f32 = new float*[K + 1];
        _bf16 = new ushort*[K + 1];
        _wholeF32 = new float*[K + 1];
        var f32 = new Tensor[K + 1];
        var bf16 = new Tensor[K + 1];
        for (int m = 0; m <= K; m++)
        {
            f32[m] = Tensor.Allocate($"f32.{m}", DType.F32, [Elements], zero: false);
            bf16[m] = Tensor.Allocate($"bf16.{m}", DType.BF16, [Elements], zero: false);
            _f32[m] = (float*)f32[m].Pointer;
            _bf16[m] = (ushort*)bf16[m].Pointer;
            _wholeF32[m] = (float*)NativeMemory.AlignedAlloc((nuint)Elements * 4, 64);
        }
        _merged = Tensor.Allocate("merged", DType.F32, [Elements]);
        _tensors = [.. f32, .. bf16, _merged];
        _output = (float*)_merged.Pointer;
        _copyTarget = (float*)NativeMemory.AlignedAlloc((nuint)Elements * 4, 64);
        Parallel.For(0, K + 1, m =>
        {
            var rng = new System.Random(m);
            var f = new Span<float>(_f32[m], Elements);
            for (int i = 0; i < Elements; i++) f[i] = (float)(rng.NextDouble() - 0.5);
            Convert16.SingleToBFloat16(f, new Span<ushort>(_bf16[m], Elements));
            new Span<float>(_wholeF32[m], Elements).Clear();
        });
        new Span<float>(_copyTarget, Elements).Clear();
        _groupF32 = new TensorGroup("w", 0, f32[0], f32[1..]);
        _groupBf16 = new TensorGroup("w", 0, bf16[0], bf16[1..]);
        var ones = Enumerable.Repeat(1.0, K).ToArray();
        _taskArithmetic = new Engine.Methods.TaskArithmeticMethod(Lambda, ones);
    }

    /// <summary>Setup, then TIES' prepasses (global thresholds, majority sign) as the executor runs them.</summary>
    [GlobalSetup(Targets = [nameof(TiesMethodF32), nameof(TiesMethodBf16)])]
    public void SetupTies()
    {
        Setup();
        var options = new TiesOptions(0.2, TiesScope.Global, MajorityZeroSign: true, TiesMergeMode.Sum, Lambda, Enumerable.Repeat(1.0, K).ToArray(), "fusionbench");
        _tiesF32 = Prepared(new Engine.Methods.TiesMethod(options, drop: null), _groupF32!);
        _tiesBf16 = Prepared(new Engine.Methods.TiesMethod(options, drop: null), _groupBf16!);
    }

    private static Engine.Methods.TiesMethod Prepared(Engine.Methods.TiesMethod ties, TensorGroup g)
    {
        for (int pass = 0; pass < ties.PrepassCount; pass++)
        {
            ties.Observe(pass, g);
            ties.EndPrepass(pass);
        }
        return ties;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in _tensors) t.Dispose();
        foreach (var p in _wholeF32) NativeMemory.AlignedFree(p);
        NativeMemory.AlignedFree(_copyTarget);
    }

    [Benchmark(Baseline = true)]
    public void CopyInputs()
    {
        var plan = ChunkPlan.For<float>((long)(K + 1) * Elements);
        ParallelChunks.For(plan, c =>
        {
            int m = (int)(c.Start / Elements);        // chunks never straddle inputs: 16M is a multiple of the chunk size
            long offset = c.Start - (long)m * Elements, bytes = c.Length * 4;
            Buffer.MemoryCopy(_f32[m] + offset, _copyTarget + offset, bytes, bytes);
        });
    }

    [Benchmark]
    public void TaskArithmeticF32() => ParallelChunks.For(_plan, c =>
    {
        Span<nint> tasks = stackalloc nint[K];
        for (int k = 0; k < K; k++) tasks[k] = (nint)(_f32[k + 1] + c.Start);
        int n = (int)c.Length;
        TaskArithmetic.Merge(new ReadOnlySpan<float>(_f32[0] + c.Start, n), new TileSet(tasks, n), Weights, Lambda, new Span<float>(_output + c.Start, n));
    });

    [Benchmark]
    public void TaskArithmeticBf16() => ParallelChunks.For(_plan, c =>
    {
        float[] scratch = t_scratch ??= new float[(K + 1) * Tile];
        for (long start = c.Start; start < c.End; start += Tile)
        {
            int n = (int)Math.Min(Tile, c.End - start);
            var tiles = ConvertTiles(start, n, scratch);
            TaskArithmetic.Merge(scratch.AsSpan(0, n), tiles, Weights, Lambda, new Span<float>(_output + start, n));
        }
    });

    [Benchmark]
    public void TaskArithmeticBf16WholeTensor()
    {
        for (int m = 0; m <= K; m++)
        {
            ushort* src = _bf16[m];
            float* dst = _wholeF32[m];
            ParallelChunks.For(_plan, c => Convert16.BFloat16ToSingle(new ReadOnlySpan<ushort>(src + c.Start, (int)c.Length), new Span<float>(dst + c.Start, (int)c.Length)));
        }
        ParallelChunks.For(_plan, c =>
        {
            Span<nint> tasks = stackalloc nint[K];
            for (int k = 0; k < K; k++) tasks[k] = (nint)(_wholeF32[k + 1] + c.Start);
            int n = (int)c.Length;
            TaskArithmetic.Merge(new ReadOnlySpan<float>(_wholeF32[0] + c.Start, n), new TileSet(tasks, n), Weights, Lambda, new Span<float>(_output + c.Start, n));
        });
    }

    [Benchmark]
    public void TiesF32() => ParallelChunks.For(_plan, c =>
    {
        float[] scratch = t_scratch ??= new float[(K + 1) * Tile];
        for (long start = c.Start; start < c.End; start += Tile)
        {
            int n = (int)Math.Min(Tile, c.End - start);
            var theta0 = new ReadOnlySpan<float>(_f32[0] + start, n);
            for (int k = 0; k < K; k++)
                Ties.SubtractTrim(new ReadOnlySpan<float>(_f32[k + 1] + start, n), theta0, Thresholds[k], scratch.AsSpan((k + 1) * Tile, n));
            TiesFinish(theta0, scratch, start, n);
        }
    });

    [Benchmark]
    public void TiesBf16() => ParallelChunks.For(_plan, c =>
    {
        float[] scratch = t_scratch ??= new float[(K + 1) * Tile];
        for (long start = c.Start; start < c.End; start += Tile)
        {
            int n = (int)Math.Min(Tile, c.End - start);
            ConvertTiles(start, n, scratch);
            var theta0 = scratch.AsSpan(0, n);
            for (int k = 0; k < K; k++)
            {
                var tau = scratch.AsSpan((k + 1) * Tile, n);
                Ties.SubtractTrim(tau, theta0, Thresholds[k], tau);
            }
            TiesFinish(theta0, scratch, start, n);
        }
    });

    [Benchmark]
    public void TaskArithmeticMethodF32() => _taskArithmetic!.Merge(_groupF32!, _merged!);

    [Benchmark]
    public void TaskArithmeticMethodBf16() => _taskArithmetic!.Merge(_groupBf16!, _merged!);

    [Benchmark]
    public void TiesMethodF32() => _tiesF32!.Merge(_groupF32!, _merged!);

    [Benchmark]
    public void TiesMethodBf16() => _tiesBf16!.Merge(_groupBf16!, _merged!);

    /// <summary>bf16 tiles of theta0 and the K tasks -> f32 scratch (theta0 at 0, task k at (k+1)*Tile).</summary>
    private TileSet ConvertTiles(long start, int n, float[] scratch)
    {
        for (int m = 0; m <= K; m++)
            Convert16.BFloat16ToSingle(new ReadOnlySpan<ushort>(_bf16[m] + start, n), scratch.AsSpan(m * Tile, n));
        return new TileSet(scratch.AsSpan(Tile, K * Tile), K, Tile).Slice(0, n);
    }

    /// <summary>Elect (sum of trimmed tiles), disjoint sum with zero_sign +1, theta0 + lambda * merged.</summary>
    private void TiesFinish(ReadOnlySpan<float> theta0, float[] scratch, long start, int n)
    {
        var trimmed = new TileSet(scratch.AsSpan(Tile, K * Tile), K, Tile).Slice(0, n);
        var output = new Span<float>(_output + start, n);
        Ties.ElectSign(trimmed, [], output);                    // gamma in the output tile
        Ties.DisjointMerge(trimmed, [], output, 1f, TiesMergeMode.Sum, output);
        TaskArithmetic.AddScaled(theta0, Lambda, output, output);
    }
}
