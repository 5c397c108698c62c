using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Methods.Cat;
using Amalgam.Kernels;
using Google.Protobuf;
using Onnx;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>Bad or degenerate input to cat / regmean, and output independent of --threads.</summary>
public class DataMethodInputTests
{
    private sealed class Recorder : IProgress<MergeProgress>
    {
        public List<MergeProgress> Reports { get; } = [];
        public void Report(MergeProgress value)
        {
            lock (Reports) Reports.Add(value);
        }
    }

    private static (string Base, string[] Models, string[] Data) CatNetCase(string dir, int k, int n)
    {
        var rng = new Random(21);
        var theta0 = CatNet.RandomParams(rng);
        CatNet.Save(Path.Combine(dir, "base.onnx"), 14, theta0);
        var models = new string[k];
        var data = new string[k];
        for (int t = 0; t < k; t++)
        {
            models[t] = Path.Combine(dir, $"task{t}.onnx");
            data[t] = Path.Combine(dir, $"x{t}.npy");
            CatNet.Save(models[t], 14, CatNet.RandomParams(rng, theta0));
            CatNet.SaveData(data[t], n, rng);
        }
        return (Path.Combine(dir, "base.onnx"), models, data);
    }

    [TestCase("cat")]
    [TestCase("regmean")]
    public void MoreSamplesThanTheDataHoldsIsABadInputNamingTheFile(string method)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, models, data) = CatNetCase(dir.Path, 2, 3);
        var e = Assert.Throws<BadInputException>(() => Merger.Merge(new MergeRequest
        {
            Method = method, Base = b, Models = models, Data = data, Out = dir.File("out.onnx"),
            Set = new Dictionary<string, string> { ["samples"] = "4" },
        }))!;
        Assert.That(e.Message, Does.Contain(data[0]).And.Contain("samples=4").And.Contain("only 3 samples"));
        Assert.That(File.Exists(dir.File("out.onnx")), Is.False);
    }

    [Test]
    public void WithoutLinearOpsCatIsTaskArithmeticAndWarnsOnce()
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(22);
        string[] paths = ["base.onnx", "t0.onnx", "t1.onnx"];
        foreach (string p in paths) SaveScaleShift(dir.File(p), rng);
        CatNet.SaveData(dir.File("x.npy"), 2, rng);
        var progress = new Recorder();
        var result = Merger.Merge(new MergeRequest
        {
            Method = "cat", Base = dir.File("base.onnx"), Models = [dir.File("t0.onnx"), dir.File("t1.onnx")],
            Data = [dir.File("x.npy"), dir.File("x.npy")], Out = dir.File("cat.onnx"), Progress = progress,
        });
        Merger.Merge(new MergeRequest
        {
            Method = "task_arithmetic", Base = dir.File("base.onnx"), Models = [dir.File("t0.onnx"), dir.File("t1.onnx")],
            Out = dir.File("ta.onnx"), Set = new Dictionary<string, string> { ["lambda"] = "0.4" },
        });
        Assert.That(File.ReadAllBytes(dir.File("cat.onnx")), Is.EqualTo(File.ReadAllBytes(dir.File("ta.onnx"))));
        var report = JsonDocument.Parse(result.MethodResultsJson).RootElement;
        Assert.That(report.GetProperty("degraded_to_task_arithmetic").GetBoolean(), Is.True);
        Assert.That(report.GetProperty("warnings")[0].GetString(), Does.Contain("no linear op"));
        Assert.That(progress.Reports.Count(r => r.Warning is not null), Is.EqualTo(1));
    }

    [TestCase("cat")]
    [TestCase("regmean")]
    public void OutputIsByteIdenticalAtOneAndTwoThreads(string method)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, models, data) = CatNetCase(dir.Path, 3, 6);
        byte[] Run(int threads)
        {
            string @out = dir.File($"out{threads}.onnx");
            Merger.Merge(new MergeRequest
            {
                Method = method, Base = b, Models = models, Data = data, Out = @out, Threads = threads,
                Set = new Dictionary<string, string> { ["samples"] = method == "cat" ? "2" : "6" },
            });
            return File.ReadAllBytes(@out);
        }
        Assert.That(Run(1), Is.EqualTo(Run(2)));
    }

    /// <summary>y = x * p + q over [N, 3, 6] with p, q [6]: no linear op at all.</summary>
    private static void SaveScaleShift(string path, Random rng)
    {
        var g = new GraphProto { Name = "scale_shift" };
        foreach (string name in new[] { "p", "q" })
        {
            var t = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(Enumerable.Range(0, 6).SelectMany(_ => BitConverter.GetBytes((float)rng.NextDouble())).ToArray()) };
            t.Dims.Add(6);
            g.Initializer.Add(t);
        }
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 3 });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = 6 });
        g.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        g.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        var mul = new NodeProto { OpType = "Mul", Name = "mul" };
        mul.Input.AddRange(["x", "p"]);
        mul.Output.Add("xp");
        var add = new NodeProto { OpType = "Add", Name = "add" };
        add.Input.AddRange(["xp", "q"]);
        add.Output.Add("y");
        g.Node.AddRange([mul, add]);
        var model = new ModelProto { IrVersion = 8, Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        File.WriteAllBytes(path, model.ToByteArray());
    }
}
