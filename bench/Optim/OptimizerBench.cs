using System.Runtime.InteropServices;
using Amalgam.Kernels.Optim;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Optim;

/// <summary>
/// One optimiser step over 4M floats (16 MiB per buffer, out of cache). Bound measured in the same
/// run: Buffer.MemoryCopy of three 16 MiB buffers (param, first and second moment) into three
/// others, i.e. 48 MiB read + 48 MiB written; Adam reads 64 MiB (param, grad, m, v) and writes
/// 48 MiB, SGD reads 48 MiB and writes 32 MiB. A scalar loop with the same formulas shows what
/// vectorising buys. Report the Ratio column against the copy.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public unsafe class OptimizerBench
{
    private const int N = 4 << 20;
    private float* _p, _g, _m, _v, _c1, _c2, _c3;
    private readonly AdamSettings _adam = new(1e-3f, WeightDecay: 0.01f);
    private long _step;

    private static float* Allocate() => (float*)NativeMemory.AlignedAlloc((nuint)N * sizeof(float), 64);
    private static Span<float> S(float* p) => new(p, N);

    [GlobalSetup]
    public void Setup()
    {
        _p = Allocate(); _g = Allocate(); _m = Allocate(); _v = Allocate();
        _c1 = Allocate(); _c2 = Allocate(); _c3 = Allocate();
        var rng = new System.Random(1);
        for (int i = 0; i < N; i++) { _p[i] = (float)rng.NextDouble(); _g[i] = (float)(rng.NextDouble() - 0.5); }
        S(_m).Clear(); S(_v).Clear(); S(_c1).Clear(); S(_c2).Clear(); S(_c3).Clear();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in new[] { _p, _g, _m, _v, _c1, _c2, _c3 }) NativeMemory.AlignedFree(p);
    }

    [Benchmark(Baseline = true)]
    public void CopyThreeBuffers()
    {
        const long bytes = (long)N * sizeof(float);
        Buffer.MemoryCopy(_p, _c1, bytes, bytes);
        Buffer.MemoryCopy(_m, _c2, bytes, bytes);
        Buffer.MemoryCopy(_v, _c3, bytes, bytes);
    }

    [Benchmark]
    public void AdamStep() => Adam.Step(S(_p), S(_g), S(_m), S(_v), _adam, ++_step);

    [Benchmark]
    public void SgdMomentumStep() => SgdMomentum.Step(S(_p), S(_g), S(_m), 1e-3f, 0.9f);

    [Benchmark]
    public void AdamScalarLoop()
    {
        long t = ++_step;
        float lr = _adam.LearningRate, b1 = _adam.Beta1, b2 = _adam.Beta2, eps = _adam.Epsilon, decay = 1 - lr * _adam.WeightDecay;
        float stepSize = (float)(lr / (1 - Math.Pow(b1, t))), bc2 = (float)Math.Sqrt(1 - Math.Pow(b2, t));
        for (int i = 0; i < N; i++)
        {
            float p = _p[i] * decay, g = _g[i];
            float m = _m[i] = b1 * _m[i] + (1 - b1) * g;
            float v = _v[i] = b2 * _v[i] + (1 - b2) * g * g;
            _p[i] = p - stepSize * m / (MathF.Sqrt(v) / bc2 + eps);
        }
    }
}
