using Amalgam.Kernels.Blas;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Blas;

/// <summary>
/// Sanity number for the OpenBLAS binding: square C = A * B at N = 512 and 1024, against a naive
/// managed i-k-j triple loop (the baseline) in the same run. Ratio = time / naive time, so
/// 2 * N^3 / time gives GFLOP/s. OpenBLAS runs once at its default thread count and once pinned to
/// one thread (the thread count changes the last bits of the result; see OpenBlas.ThreadCount).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class SgemmBenchmark
{
    private float[] _a = [], _b = [], _c = [];
    private int _defaultThreads;

    [Params(512, 1024)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = Enumerable.Range(0, N * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _b = Enumerable.Range(0, N * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _c = new float[N * N];
        OpenBlas.EnsureLoaded();
        _defaultThreads = OpenBlas.ThreadCount;
    }

    [Benchmark(Baseline = true)]
    public void NaiveTripleLoop()
    {
        int n = N;
        float[] a = _a, b = _b, c = _c;
        Array.Clear(c);
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < n; k++)
            {
                float aik = a[i * n + k];
                int bRow = k * n, cRow = i * n;
                for (int j = 0; j < n; j++) c[cRow + j] += aik * b[bRow + j];
            }
        }
    }

    [Benchmark]
    public void OpenBlasSgemmDefaultThreads()
    {
        OpenBlas.ThreadCount = _defaultThreads;
        BlasLevel3.Sgemm(N, N, N, _a, _b, _c);
    }

    [Benchmark]
    public void OpenBlasSgemmOneThread()
    {
        OpenBlas.ThreadCount = 1;
        BlasLevel3.Sgemm(N, N, N, _a, _b, _c);
        OpenBlas.ThreadCount = _defaultThreads;
    }
}
