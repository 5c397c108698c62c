using Amalgam.Kernels;
using Amalgam.Kernels.Blas;
using Amalgam.Kernels.Merge;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Wudi;

/// <summary>
/// WUDI's cost per Adam step on ViT-B/32 layer shapes (torch layout: fc1 3072 x 768, fc2 768 x 3072),
/// K = 8 task vectors, OpenBLAS on one thread:
/// <list type="bullet">
/// <item><c>OfficialStep</c> (baseline): one step the way the official loop associates it, every term each
/// step: per task (tau_m - tau_i), (tau_m - tau_i) tau_i^T (m x m), then that times tau_i (4 K m^2 n flops).</item>
/// <item><c>Steps0</c> / <c>Steps10</c>: <see cref="WudiMerge.Optimise"/> with 0 and 10 steps on one worker
/// (setup: the summed Gram matrix and the constants, and the final loss); per step = (Steps10 - Steps0) / 10.</item>
/// <item><c>Steps10TwoWorkers</c>: the same on two workers (row blocks in parallel).</item>
/// <item><c>SgemmBound</c>: one m x n x n sgemm, the step's only product (2 m n^2 flops): the bound a step can reach.</item>
/// </list>
/// Report per step / SgemmBound (the overhead of Adam and the copies) and OfficialStep / per step (the speed-up).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class WudiStepBenchmark
{
    private const int K = 8;
    private float[][] _taus = [];
    private float[] _tm = [], _d = [], _inner = [], _g = [], _merged = [], _a = [], _c = [];
    private int _previousThreads;

    [Params("3072x768", "768x3072")]
    public string Shape { get; set; } = "";

    private int M => int.Parse(Shape.Split('x')[0]);
    private int N => int.Parse(Shape.Split('x')[1]);

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        int len = M * N;
        _taus = Enumerable.Range(0, K).Select(_ => Enumerable.Range(0, len).Select(_ => (float)(rng.NextDouble() - 0.5) * 1e-3f).ToArray()).ToArray();
        _tm = new float[len];
        foreach (var t in _taus) for (int j = 0; j < len; j++) _tm[j] += t[j];
        _d = new float[len];
        _g = new float[len];
        _merged = new float[len];
        _inner = new float[M * M];
        _a = Enumerable.Range(0, N * N).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = new float[len];
        OpenBlas.EnsureLoaded();
        _previousThreads = OpenBlas.ThreadCount;
        OpenBlas.ThreadCount = 1;
    }

    [GlobalCleanup]
    public void Cleanup() => OpenBlas.ThreadCount = _previousThreads;

    [Benchmark(Baseline = true)]
    public void OfficialStep()
    {
        int m = M, n = N;
        Array.Clear(_g);
        foreach (var tau in _taus)
        {
            for (int j = 0; j < _d.Length; j++) _d[j] = _tm[j] - tau[j];
            BlasLevel3.Sgemm(Transpose.No, Transpose.Yes, m, m, n, 1f, _d, n, tau, n, 0f, _inner, m);
            BlasLevel3.Sgemm(Transpose.No, Transpose.No, m, n, m, 1f, _inner, m, tau, n, 1f, _g, n);
        }
    }

    [Benchmark]
    public double Steps0() => WudiMerge.Optimise(_taus, M, N, 0, 1e-5f, _merged, threads: 1);

    [Benchmark]
    public double Steps10() => WudiMerge.Optimise(_taus, M, N, 10, 1e-5f, _merged, threads: 1);

    [Benchmark]
    public double Steps10TwoWorkers() => WudiMerge.Optimise(_taus, M, N, 10, 1e-5f, _merged, threads: 2);

    [Benchmark]
    public void SgemmBound() => BlasLevel3.Sgemm(M, N, N, _tm, _a, _c);
}
