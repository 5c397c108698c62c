using System.Runtime.InteropServices;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Rng;
using Amalgam.Kernels.Selection;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Merge;

/// <summary>
/// Single-thread passes over one 64 MiB task vector (16M floats, normally distributed like a
/// fine-tuning delta): the two histogram passes of the exact global threshold and the DARE mask,
/// against Buffer.MemoryCopy of the same 64 MiB measured in the same run. Report the Ratio column.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public unsafe class MagnitudeSelectionBench
{
    private const int Elements = 16 << 20;
    private const int Tile = 16 << 10;
    private float* _tau;
    private float* _target;
    private MagnitudeHistogram _histogram = new();
    private MagnitudeRefinement? _refinement;

    [GlobalSetup]
    public void Setup()
    {
        _tau = (float*)NativeMemory.AlignedAlloc((nuint)Elements * 4, 64);
        _target = (float*)NativeMemory.AlignedAlloc((nuint)Elements * 4, 64);
        var rng = new System.Random(1);
        for (int i = 0; i < Elements; i++)
            _tau[i] = (float)(1e-3 * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        new Span<float>(_target, Elements).Clear();
        _histogram.Add(new ReadOnlySpan<float>(_tau, Elements));
        _refinement = _histogram.Refine(Elements / 5);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_tau);
        NativeMemory.AlignedFree(_target);
    }

    [Benchmark(Baseline = true)]
    public void Copy() => Buffer.MemoryCopy(_tau, _target, Elements * 4L, Elements * 4L);

    [Benchmark]
    public long HistogramPass()
    {
        var h = new MagnitudeHistogram();
        h.Add(new ReadOnlySpan<float>(_tau, Elements));
        return h.Count;
    }

    [Benchmark]
    public float RefinementPass()
    {
        var r = _refinement!.CreateEmptyCopy();
        r.Add(new ReadOnlySpan<float>(_tau, Elements));
        return r.KthLargest(Elements / 5);
    }

    [Benchmark]
    public void DareMaskAndScale()
    {
        var key = PhiloxKey.ForTensor(42, 1, "model.layers.0.mlp.up_proj.weight");
        for (int start = 0; start < Elements; start += Tile)
        {
            new ReadOnlySpan<float>(_tau + start, Tile).CopyTo(new Span<float>(_target + start, Tile));
            Dare.MaskAndScale(key, start, 0.9f, 10f, new Span<float>(_target + start, Tile));
        }
    }
}
