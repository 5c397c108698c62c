using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Amalgam.Kernels;
using BenchmarkDotNet.Attributes;

namespace Amalgam.Bench.Conversion;

/// <summary>
/// Widening 64 MiB of bf16 (32 Mi elements, far beyond cache) to 128 MiB of f32, against the bound
/// of plain memory copies of the output size (the baseline: same bytes written) and of the input
/// size (same bytes read), single-threaded and on all cores with the chunk partitioner.
/// Report: Ratio = time / time of a single-threaded copy of the output bytes. The reverse direction
/// (f32 -> bf16, 128 MiB read, 64 MiB written) is timed too, against the same baseline.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
public unsafe class Bf16ToF32Benchmark
{
    private const int Elements = 32 * 1024 * 1024;
    private ushort* _bf16;
    private float* _f32;
    private byte* _scratch;
    private ChunkPlan _plan;

    [GlobalSetup]
    public void Setup()
    {
        _bf16 = (ushort*)NativeMemory.AlignedAlloc((nuint)Elements * 2, 64);
        _f32 = (float*)NativeMemory.AlignedAlloc((nuint)Elements * 4, 64);
        _scratch = (byte*)NativeMemory.AlignedAlloc((nuint)Elements * 4, 64);
        var rng = new Random(1);
        for (int i = 0; i < Elements; i++) _bf16[i] = (ushort)(BitConverter.SingleToUInt32Bits((float)rng.NextDouble() - 0.5f) >> 16);
        NativeMemory.Fill(_f32, (nuint)Elements * 4, 1);      // touch every page before timing
        NativeMemory.Fill(_scratch, (nuint)Elements * 4, 2);
        _plan = ChunkPlan.For<ushort>(Elements);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_bf16);
        NativeMemory.AlignedFree(_f32);
        NativeMemory.AlignedFree(_scratch);
    }

    private ReadOnlySpan<ushort> Bf16(long start, long count) => new(_bf16 + start, (int)count);
    private Span<float> F32(long start, long count) => new(_f32 + start, (int)count);

    [Benchmark(Baseline = true, Description = "memcpy output bytes (128 MiB)")]
    public void CopyOutputBytes() => Buffer.MemoryCopy(_scratch, _f32, Elements * 4L, Elements * 4L);

    [Benchmark(Description = "memcpy input bytes (64 MiB)")]
    public void CopyInputBytes() => Buffer.MemoryCopy(_bf16, _scratch, Elements * 2L, Elements * 2L);

    [Benchmark(Description = "bf16->f32 Convert16")]
    public void Convert() => Convert16.BFloat16ToSingle(Bf16(0, Elements), F32(0, Elements));

    [Benchmark(Description = "f16->f32 Convert16 (same data as f16)")]
    public void ConvertHalf() => Convert16.HalfToSingle(Bf16(0, Elements), F32(0, Elements));

    [Benchmark(Description = "f16->f32 TensorPrimitives (reference)")]
    public void ConvertHalfTensorPrimitives() =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(Bf16(0, Elements)), F32(0, Elements));

    [Benchmark(Description = "f32->bf16 Convert16 (the write-back direction)")]
    public void ConvertBack() => Convert16.SingleToBFloat16(F32(0, Elements), new Span<ushort>(_bf16, Elements));

    [Benchmark(Description = "memcpy output bytes, all cores")]
    public void CopyOutputBytesParallel() => ParallelChunks.For(_plan, c =>
        Buffer.MemoryCopy(_scratch + c.Start * 4, _f32 + c.Start, c.Length * 4, c.Length * 4));

    [Benchmark(Description = "bf16->f32 Convert16, all cores")]
    public void ConvertParallel() => ParallelChunks.For(_plan, c =>
        Convert16.BFloat16ToSingle(Bf16(c.Start, c.Length), F32(c.Start, c.Length)));
}
