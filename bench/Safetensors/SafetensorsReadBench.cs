using System.Numerics;
using System.Runtime.InteropServices;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace Amalgam.Bench.Safetensors;

/// <summary>
/// Opening a ~1 GiB safetensors file (16 f32 tensors of 64 MiB) and reading every tensor through
/// zero-copy memory-mapped views, against the bound of a plain FileStream read of the same file into
/// a preallocated buffer. Two ways to "read": touch one byte per 4 KiB page (pure I/O / mapping
/// cost), and sum every float (what a consumer does). The file is generated once under /tmp and
/// stays in the page cache, so both sides measure warm-cache reads. Report the Ratio column.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 5)]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public unsafe class SafetensorsReadBench
{
    private const int TensorCount = 16;
    private const int TensorFloats = 16 << 20; // 64 MiB each
    private const int Page = 4096;
    private static readonly string FilePath = Path.Combine(Path.GetTempPath(), "amalgam-bench-1g.safetensors");
    private byte[] _buffer = [];

    [GlobalSetup]
    public void Setup()
    {
        var decls = Enumerable.Range(0, TensorCount).Select(i => new SafetensorsDeclaration($"layer{i}.weight", DType.F32, 4096, TensorFloats / 4096)).ToList();
        if (!IsExpectedFile(decls))
        {
            var chunk = new float[1 << 20];
            using var w = new SafetensorsWriter(FilePath, decls);
            foreach (var d in decls)
                for (int c = 0; c < TensorFloats / chunk.Length; c++)
                {
                    for (int k = 0; k < chunk.Length; k++) chunk[k] = (c * chunk.Length + k) % 1000 * 1e-3f;
                    w.WriteChunk(d.Name, MemoryMarshal.AsBytes(chunk.AsSpan()));
                }
            w.Commit();
        }
        _buffer = GC.AllocateUninitializedArray<byte>(checked((int)new FileInfo(FilePath).Length), pinned: true);
        FileStreamTouchPages(); // pull the file into the page cache
    }

    private static bool IsExpectedFile(List<SafetensorsDeclaration> decls)
    {
        if (!File.Exists(FilePath)) return false;
        try
        {
            using var f = SafetensorsFile.Open(FilePath);
            return f.Entries.Count == decls.Count && f.Entries.All(e => e.ByteLength == (long)TensorFloats * 4);
        }
        catch (BadInputException) { return false; }
    }

    [GlobalCleanup]
    public void Cleanup() => _buffer = [];

    [Benchmark(Baseline = true), BenchmarkCategory("TouchPages")]
    public long FileStreamTouchPages()
    {
        ReadWholeFile();
        long sum = 0;
        for (int i = 0; i < _buffer.Length; i += Page) sum += _buffer[i];
        return sum;
    }

    [Benchmark, BenchmarkCategory("TouchPages")]
    public long SafetensorsTouchPages()
    {
        long sum = 0;
        using var file = SafetensorsFile.Open(FilePath);
        foreach (var e in file.Entries)
        {
            using var t = file.Get(e.Name);
            byte* p = t.Pointer;
            for (long i = 0; i < t.ByteLength; i += Page) sum += p[i];
        }
        return sum;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("SumFloats")]
    public float FileStreamSumFloats()
    {
        ReadWholeFile();
        // The data starts at a multiple of 8 after the header; sum exactly the tensor bytes.
        long dataStart = 8 + BitConverter.ToInt64(_buffer, 0);
        return Sum(MemoryMarshal.Cast<byte, float>(_buffer.AsSpan((int)dataStart)));
    }

    [Benchmark, BenchmarkCategory("SumFloats")]
    public float SafetensorsSumFloats()
    {
        float sum = 0;
        using var file = SafetensorsFile.Open(FilePath);
        foreach (var e in file.Entries)
        {
            using var t = file.Get(e.Name);
            sum += Sum(t.Read<float>());
        }
        return sum;
    }

    private void ReadWholeFile()
    {
        using var fs = new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        fs.ReadExactly(_buffer);
    }

    private static float Sum(ReadOnlySpan<float> x)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count) acc += new Vector<float>(x[i..]);
        float s = Vector.Sum(acc);
        for (; i < x.Length; i++) s += x[i];
        return s;
    }
}
