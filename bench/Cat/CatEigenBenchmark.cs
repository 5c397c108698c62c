using Amalgam.Kernels.Blas;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Cat;

/// <summary>
/// CAT's eigen step at ViT-B sizes (d_out 768 and 3072): the top c = 4 eigenpairs by ssyevr against
/// every eigenpair by ssyevd (baseline; ratio = time / ssyevd time). The matrix is built like CAT's
/// G_k: a sum of rank-100 Gram updates minus a weighted one, so it is indefinite with a few large
/// positive eigenvalues. OpenBLAS is pinned to one thread as CAT runs it. Each call first copies the
/// input (LAPACK destroys it).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class CatEigenBenchmark
{
    [Params(768, 3072)]
    public int N { get; set; }

    private float[] _a = [], _work = [], _w = [], _z = [];
    private int _threads;

    [GlobalSetup]
    public void Setup()
    {
        _threads = OpenBlas.ThreadCount;
        OpenBlas.ThreadCount = 1;
        var rng = new Random(7);
        const int rows = 700;
        float[] plus = Enumerable.Range(0, rows * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float[] minus = Enumerable.Range(0, rows * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _a = new float[N * N];
        BlasLevel3.Ssyrk(Triangle.Upper, Transpose.Yes, N, rows, 1f, plus, N, 0f, _a, N);
        BlasLevel3.Ssyrk(Triangle.Upper, Transpose.Yes, N, rows, -0.5f, minus, N, 1f, _a, N);
        BlasLevel3.MirrorTriangle(Triangle.Upper, N, _a, N);
        _work = new float[N * N];
        _w = new float[N];
        _z = new float[N * N];
    }

    [GlobalCleanup]
    public void Cleanup() => OpenBlas.ThreadCount = _threads;

    [Benchmark(Baseline = true)]
    public void SsyevdAll()
    {
        _a.CopyTo(_work, 0);
        Lapack.Ssyevd(Triangle.Upper, N, _work, N, _w);
    }

    [Benchmark]
    public void SsyevrTop4()
    {
        _a.CopyTo(_work, 0);
        Lapack.Ssyevr(Triangle.Upper, N, _work, N, EigenSelection.Largest(4), _w, _z);
    }
}
