using Amalgam.Bench.Merge;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Amalgam.Bench.AdaMerging;

/// <summary>
/// AdaMerging's two fused kernels on K = 8 task vectors of one 8M-float tensor (32 MiB each, 288 MiB
/// with theta0: out of cache), run as the trainer runs them (slices on the worker threads):
/// the merge kernel theta = theta0 + sum_k c_k tau_k (reads theta0 + K taus, writes theta), the
/// reduction dlambda_k = &lt;G, tau_k&gt; in float64 (reads G + K taus), and the per-run gradient
/// accumulation sum += G. Bound: a plain multi-threaded Buffer.MemoryCopy of the same 9 x 32 MiB the
/// kernels read, in the same run. Columns: "read" = bytes read/s over the copy's, "traffic" =
/// (read + written)/s over the copy's (read + written)/s.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[Config(typeof(RatioConfig))]
public unsafe class AdaMergingKernelsBench
{
    private const int K = 8;
    private const int Elements = 8 << 20;
    private const double Bytes = Elements * 4.0;

    private TaskVectorStore _tv = null!;
    private Tensor[] _theta = [], _grad = [], _sum = [];
    private float[] _coefficients = [];
    private Tensor _copyTarget = null!;

    private sealed class RatioConfig : ManualConfig
    {
        private static readonly Dictionary<string, (double, double)> Traffic = new()
        {
            [nameof(CopyParallel)] = ((K + 1) * Bytes, (K + 1) * Bytes),
            [nameof(ThetaWriter)] = ((K + 1) * Bytes, Bytes),
            [nameof(Reduction)] = ((K + 1) * Bytes, 0),
            [nameof(Accumulate)] = (2 * Bytes, Bytes),
        };

        public RatioConfig()
        {
            AddColumn(new BandwidthRatioColumn("read", false, Traffic));
            AddColumn(new BandwidthRatioColumn("traffic", true, Traffic));
            WithBuildTimeout(TimeSpan.FromMinutes(10)); // the shared 2-core machine builds slowly
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var theta0 = Tensor.Allocate("w", DType.F32, [Elements]);
        var taus = Tensor.Allocate("w.tau", DType.F32, [K, Elements]);
        var rng = new Random(1);
        var t0 = theta0.Write<float>();
        for (int i = 0; i < t0.Length; i++) t0[i] = (float)(rng.NextDouble() - 0.5);
        for (int k = 0; k < K; k++)
        {
            var row = taus.Write<float>((long)k * Elements, Elements);
            for (int i = 0; i < row.Length; i++) row[i] = (float)(0.01 * (rng.NextDouble() - 0.5));
        }
        _tv = TaskVectorStore.FromTensors(["w"], [theta0], [taus], K);
        _theta = [Tensor.Allocate("theta", DType.F32, [Elements])];
        _grad = [Tensor.Allocate("grad", DType.F32, [Elements])];
        _sum = [Tensor.Allocate("sum", DType.F32, [Elements])];
        _grad[0].Write<float>().Fill(1e-3f);
        _coefficients = Enumerable.Range(0, K).Select(k => 0.2f + 0.05f * k).ToArray();
        _copyTarget = Tensor.Allocate("copy", DType.F32, [Elements]);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tv.Dispose();
        foreach (var t in _theta.Concat(_grad).Concat(_sum).Append(_copyTarget)) t.Dispose();
    }

    /// <summary>The bound: every input the kernels read, copied once by the worker threads in 256 KiB slices.</summary>
    [Benchmark(Baseline = true)]
    public void CopyParallel()
    {
        var slices = _tv.Slices;
        ParallelChunks.For(new ChunkPlan(slices.Length * (K + 1), 1), c =>
        {
            var s = slices[c.Index % slices.Length];
            int input = c.Index / slices.Length;
            float* source = input == K ? (float*)_tv.Theta0[0].Pointer + s.Start : (float*)_tv.Taus[0].Pointer + (long)input * Elements + s.Start;
            Buffer.MemoryCopy(source, (float*)_copyTarget.Pointer + s.Start, s.Length * 4L, s.Length * 4L);
        });
    }

    [Benchmark]
    public void ThetaWriter() => Engine.Methods.AdaMerging.ThetaWriter.Run(_tv, _tv.Slices, _coefficients, _theta);

    [Benchmark]
    public double Reduction() => GradientReduction.Reduce(_tv, _grad)[0];

    [Benchmark]
    public void Accumulate() => GradientReduction.Accumulate(_tv, _grad, _sum, first: false, GradientReduction.Workers(_tv));
}
