using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Amalgam.Bench.Merge;

/// <summary>
/// Merge tile kernels over K = 8 task tensors of 16M floats each (64 MiB each, 576 MiB read with
/// theta0: far out of cache), walked in cache-sized tiles as the executor will. The bound, measured
/// in the same run, is Buffer.MemoryCopy of the same bytes the kernel reads (each of the 9 inputs
/// copied into one 64 MiB buffer): the copy reads 576 MiB and writes 576 MiB, the kernels read
/// 576 MiB and write 64 MiB. Report the Ratio column per category (Single / Parallel). The
/// Parallel.For over tiles is only for this benchmark; the engine's partitioner lives elsewhere.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class MergeKernelsBench
{
    private const int K = 8;
    private const int Elements = 16 << 20;
    private const int ArithmeticTile = 16 << 10;
    private const int TiesTile = 8 << 10; // K scratch tiles + gamma + output stay within L2
    private static readonly float[] Weights = [0.3f, 0.2f, 0.1f, 0.15f, 0.05f, 0.1f, 0.05f, 0.05f];

    private float* _theta0;
    private nint[] _thetas = [];
    private float* _output;
    private float* _copyTarget;

    [GlobalSetup]
    public void Setup()
    {
        _theta0 = Allocate();
        _output = Allocate();
        _copyTarget = Allocate();
        _thetas = Enumerable.Range(0, K).Select(_ => (nint)Allocate()).ToArray();
        Parallel.For(0, K + 1, t =>
        {
            var rng = new System.Random(t);
            float* p = t == K ? _theta0 : (float*)_thetas[t];
            for (int i = 0; i < Elements; i++) p[i] = (float)(rng.NextDouble() - 0.5);
        });
        new Span<float>(_output, Elements).Clear();
        new Span<float>(_copyTarget, Elements).Clear();
    }

    private static float* Allocate() => (float*)NativeMemory.AlignedAlloc((nuint)Elements * sizeof(float), 64);

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_theta0);
        NativeMemory.AlignedFree(_output);
        NativeMemory.AlignedFree(_copyTarget);
        foreach (nint p in _thetas) NativeMemory.AlignedFree((void*)p);
    }

    private void* Input(int i) => i == K ? _theta0 : (void*)_thetas[i];

    [Benchmark(Baseline = true), BenchmarkCategory("Single")]
    public void CopyInputs()
    {
        const long bytes = (long)Elements * sizeof(float);
        for (int i = 0; i <= K; i++) Buffer.MemoryCopy(Input(i), _copyTarget, bytes, bytes);
    }

    [Benchmark, BenchmarkCategory("Single")]
    public void TaskArithmeticTiles()
    {
        for (int start = 0; start < Elements; start += ArithmeticTile) ArithmeticTileAt(start);
    }

    [Benchmark, BenchmarkCategory("Single")]
    public void TiesTiles()
    {
        var scratch = new TiesScratch();
        for (int start = 0; start < Elements; start += TiesTile) TiesTileAt(start, scratch);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Parallel")]
    public void CopyInputsParallel()
    {
        const int chunk = 1 << 20;
        const int chunksPerInput = Elements / chunk;
        Parallel.For(0, (K + 1) * chunksPerInput, c =>
        {
            long offset = (long)(c % chunksPerInput) * chunk;
            Buffer.MemoryCopy((float*)Input(c / chunksPerInput) + offset, _copyTarget + offset, chunk * 4L, chunk * 4L);
        });
    }

    [Benchmark, BenchmarkCategory("Parallel")]
    public void TaskArithmeticTilesParallel() =>
        Parallel.For(0, Elements / ArithmeticTile, t => ArithmeticTileAt(t * ArithmeticTile));

    [Benchmark, BenchmarkCategory("Parallel")]
    public void TiesTilesParallel() =>
        Parallel.For(0, Elements / TiesTile, () => new TiesScratch(), (t, _, scratch) =>
        {
            TiesTileAt(t * TiesTile, scratch);
            return scratch;
        }, _ => { });

    private void ArithmeticTileAt(int start)
    {
        var all = new TileSet(_thetas, Elements);
        TaskArithmetic.Merge(new ReadOnlySpan<float>(_theta0 + start, ArithmeticTile), all.Slice(start, ArithmeticTile),
            Weights, 0.8f, new Span<float>(_output + start, ArithmeticTile));
    }

    private sealed class TiesScratch
    {
        public readonly float[] Tau = new float[K * TiesTile];
        public readonly float[] Gamma = new float[TiesTile];
    }

    // The per-tile TIES pipeline with thresholds given: tau_k = theta_k - theta0 trimmed, elect,
    // disjoint mean, theta0 + lambda * merged.
    private void TiesTileAt(int start, TiesScratch scratch)
    {
        var theta0 = new ReadOnlySpan<float>(_theta0 + start, TiesTile);
        for (int k = 0; k < K; k++)
            Ties.SubtractTrim(new ReadOnlySpan<float>((float*)_thetas[k] + start, TiesTile), theta0, 0.5f,
                scratch.Tau.AsSpan(k * TiesTile, TiesTile));
        var tiles = new TileSet(scratch.Tau, K, TiesTile);
        var output = new Span<float>(_output + start, TiesTile);
        Ties.ElectSign(tiles, [], scratch.Gamma);
        Ties.DisjointMerge(tiles, [], scratch.Gamma, 1f, TiesMergeMode.Mean, output);
        TaskArithmetic.AddScaled(theta0, 1f, output, output);
    }
}
