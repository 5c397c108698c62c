using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Onnx;

namespace Amalgam.Bench.Onnx;

/// <summary>
/// Loading and saving ONNX models the way a merge does, on a synthetic 256 MiB model (64 f32 initializers of
/// 4 MiB, inline), files in the temp folder (page cache):
/// <list type="bullet">
/// <item><c>LoadParsed</c> (baseline): protobuf's parser over a file stream (<see cref="OnnxModel.Load(Stream, string, string)"/>;
/// what <c>Load(path)</c> did before): every weight copied into fresh managed arrays.</item>
/// <item><c>LoadMapped</c>: <see cref="OnnxModel.Load(string)"/>, raw_data over a mapping of the file (<c>MappedModelReader</c>).</item>
/// <item><c>ReadFileBound</c>: the file read into one reused buffer: a memory copy of the file, the bound any loader that copies reaches.</item>
/// <item><c>SaveCopying</c> / <c>SaveShared</c>: one merged model's initializers written into K = 4 models and the four
/// saved, with a copying <c>ReplaceInitializer(name, Tensor)</c> per model vs one <see cref="SharedBytes"/> held by all four.</item>
/// <item><c>WriteBound</c>: the four files' bytes written from one reused buffer, 1 MiB per write: the I/O bound of saving.</item>
/// </list>
/// Report LoadParsed / LoadMapped, LoadParsed / ReadFileBound, SaveShared / WriteBound, and the managed bytes
/// allocated (the memory diagnoser: the copying save allocates K copies of the weights, the shared one none).
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class OnnxModelIoBenchmark
{
    private const int Tensors = 64, Elements = 1 << 20, K = 4;
    private string _dir = "", _model = "";
    private byte[] _buffer = [];
    private Tensor[] _merged = [];

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("amalgam-onnx-bench-").FullName;
        _model = Path.Combine(_dir, "model.onnx");
        var rng = new Random(5);
        var graph = new GraphProto { Name = "g" };
        _merged = new Tensor[Tensors];
        for (int i = 0; i < Tensors; i++)
        {
            var values = new float[Elements];
            for (int j = 0; j < Elements; j++) values[j] = (float)rng.NextDouble();
            var t = new TensorProto { Name = $"w{i}", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
            t.Dims.Add([1024, 1024]);
            graph.Initializer.Add(t);
            _merged[i] = Tensor.Allocate(t.Name, DType.F32, [1024, 1024], zero: false);
            values.AsSpan().CopyTo(_merged[i].Write<float>());
        }
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        File.WriteAllBytes(_model, model.ToByteArray());
        _buffer = new byte[new FileInfo(_model).Length];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in _merged) t.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public int LoadParsed()
    {
        using var fs = new FileStream(_model, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return OnnxModel.Load(fs, _dir, _model).Graph.Initializer.Count;
    }

    [Benchmark]
    public int LoadMapped() => OnnxModel.Load(_model).Graph.Initializer.Count;

    [Benchmark]
    public int ReadFileBound()
    {
        using var fs = new FileStream(_model, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        int total = 0;
        while (total < _buffer.Length)
        {
            int n = fs.Read(_buffer, total, _buffer.Length - total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    [Benchmark]
    public void SaveCopying() => Save(shared: false);

    [Benchmark]
    public void SaveShared() => Save(shared: true);

    private void Save(bool shared)
    {
        var models = Enumerable.Range(0, K).Select(_ => OnnxModel.Load(_model)).ToArray();
        foreach (var t in _merged)
        {
            var bytes = shared ? SharedBytes.CopyOf(t) : null;
            foreach (var m in models)
                if (bytes is not null) m.ReplaceInitializer(t.Name, bytes);
                else m.ReplaceInitializer(t.Name, t);
        }
        for (int k = 0; k < K; k++) models[k].Save(Path.Combine(_dir, $"out{k}.onnx"));
    }

    [Benchmark]
    public void WriteBound()
    {
        for (int k = 0; k < K; k++)
        {
            using var fs = new FileStream(Path.Combine(_dir, $"bound{k}.onnx"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
            for (int offset = 0; offset < _buffer.Length; offset += 1 << 20)
                fs.Write(_buffer, offset, Math.Min(1 << 20, _buffer.Length - offset));
        }
    }
}
