using Amalgam.Engine.Methods.Cat;
using Amalgam.Kernels.Blas;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Cat;

/// <summary>
/// CAT's eigen step at ViT-B/32 sizes (d_out 2304 = in_proj, 3072 = fc1; K = 8 tasks with n = 100
/// tokens each, so G_k = A^T S A with m = 2 (K - 1) n = 1400 stacked rows: 700 with weight +1 and
/// 700 with -lambda = -0.5, indefinite with a few large positive eigenvalues). Baseline: every
/// eigenpair of the formed G by ssyevd. Against it: the top c = 4 of the formed G by ssyevr; the
/// whole full path (forming G by ssyrk, then ssyevr top 4); and the exact reduced path (thin QR of
/// A^T, the 1400 x 1400 M = R S R^T, its eigenpairs, B = Q V) for the top 4 and for all positive
/// eigenvalues. OpenBLAS is pinned to one thread as CAT runs it. The LAPACK-only cases first copy
/// the input (LAPACK destroys it).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class CatEigenBenchmark
{
    private const int Blocks = 14, RowsPerBlock = 100; // m = 1400

    [Params(2304, 3072)]
    public int N { get; set; }

    private float[] _a = [], _work = [], _w = [], _z = [];
    private readonly List<float[]> _blocks = [];
    private readonly List<float> _weights = [];
    private int _threads;

    [GlobalSetup]
    public void Setup()
    {
        _threads = OpenBlas.ThreadCount;
        OpenBlas.ThreadCount = 1;
        var rng = new Random(7);
        _blocks.Clear();
        _weights.Clear();
        _a = new float[N * N];
        for (int j = 0; j < Blocks; j++)
        {
            _blocks.Add(Enumerable.Range(0, RowsPerBlock * N).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
            _weights.Add(j < Blocks / 2 ? 1f : -0.5f);
            BlasLevel3.Ssyrk(Triangle.Upper, Transpose.Yes, N, RowsPerBlock, _weights[j], _blocks[j], N, 1f, _a, N);
        }
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

    [Benchmark]
    public CatBasis FullPathTop4() => CatBases.WeightedGramBasis(_blocks, _weights, N, new BasisRule(4, false, 0), GramEigenPath.Full);

    [Benchmark]
    public CatBasis ReducedTop4() => CatBases.WeightedGramBasis(_blocks, _weights, N, new BasisRule(4, false, 0), GramEigenPath.Reduced);

    [Benchmark]
    public CatBasis ReducedAllPositive() => CatBases.WeightedGramBasis(_blocks, _weights, N, new BasisRule(0, true, 0), GramEigenPath.Reduced);
}
