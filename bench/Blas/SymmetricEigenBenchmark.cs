using Amalgam.Kernels.Blas;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Blas;

/// <summary>
/// The eigenbasis step of CAT-style merging on a 1024 x 1024 symmetric matrix: all eigenpairs by
/// ssyevd (the baseline) against only the top 32 by ssyevr. Ratio = time / ssyevd time. Each call
/// first copies the input (LAPACK destroys it); that copy is under 1% of either time.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public class SymmetricEigenBenchmark
{
    private const int N = 1024, Top = 32;
    private float[] _a = [], _work = [], _w = [], _z = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        float[] m = Enumerable.Range(0, N * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        _a = new float[N * N];
        BlasLevel3.Gram(N, N, m, _a); // symmetric positive semidefinite, like a feature Gram matrix
        _work = new float[N * N];
        _w = new float[N];
        _z = new float[N * N];
    }

    [Benchmark(Baseline = true)]
    public void SsyevdAllPairs()
    {
        _a.CopyTo(_work, 0);
        Lapack.Ssyevd(Triangle.Upper, N, _work, N, _w);
    }

    [Benchmark]
    public void SsyevrTop32Pairs()
    {
        _a.CopyTo(_work, 0);
        Lapack.Ssyevr(Triangle.Upper, N, _work, N, EigenSelection.Largest(Top), _w, _z);
    }
}
