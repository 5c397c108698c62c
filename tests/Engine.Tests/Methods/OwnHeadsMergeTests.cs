using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Evaluation;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Engine.Tests.Methods.AdaMerging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;
using Google.Protobuf;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// Every registered method on task models whose private heads have 2, 10 and 4 classes: the merged
/// shared tensors equal those of the same merge on models whose heads all have 10 classes (the same
/// functions: the extra classes have zero weights and a bias of -1e30, so their probability is 0), and
/// each task's output keeps its own head byte for byte. ONNX: the torch-exported CLIP-style fixture
/// (tests/fixtures/adamerging); safetensors: random checkpoints, with a headed and a headless base.
/// </summary>
public sealed class OwnHeadsMergeTests
{
    private static readonly int[] Classes = [2, 10, 4];
    private const int Padded = 10;
    private const string Head = @"^head\.";

    /// <summary>Settings that make the data-dependent methods fit the fixture's 32 samples per task and run quickly.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Quick = new()
    {
        ["regmean"] = new() { ["samples"] = "32" },
        ["fisher"] = new() { ["samples"] = "8" },
        ["adamerging"] = new() { ["steps"] = "4", ["batch_size"] = "8" },
    };

    /// <summary>Methods whose shared tensors differ per task (MergeMethod.PerTaskModels).</summary>
    private static readonly HashSet<string> PerTaskModels = ["emr"];

    /// <summary>Methods whose result depends on the heads' values through softmax sums (over 2/4 vs 10 terms, the last bits differ).</summary>
    private static readonly HashSet<string> ThroughSoftmax = ["fisher", "adamerging"];

    public static IEnumerable<string> Methods => MethodRegistry.All.Select(m => m.Name);

    public static IEnumerable<string> DataFreeMethods => MethodRegistry.All.Where(m => !m.NeedsData).Select(m => m.Name);

    /// <summary>
    /// Task k's fixture model with its head cut to <paramref name="classes"/> rows (or those rows padded
    /// with never-winning classes to <paramref name="rows"/>) and the logits' class dimension set to match.
    /// </summary>
    private static string HeadOf(int k, int classes, int rows, string path)
    {
        var model = OnnxModel.Load(AdaMergingFixture.Tasks[k]);
        using var w = model.ReadInitializer("head.weight");
        using var b = model.ReadInitializer("head.bias");
        long dim = w.Shape[1];
        using var w2 = Tensor.Allocate("head.weight", DType.F32, [rows, dim]);
        using var b2 = Tensor.Allocate("head.bias", DType.F32, [rows]);
        w.Read<float>()[..(int)(classes * dim)].CopyTo(w2.Write<float>());
        b.Read<float>()[..classes].CopyTo(b2.Write<float>());
        for (int c = classes; c < rows; c++) b2.Write<float>()[c] = -1e30f;
        // As an exporter writes a head of another class count: new dims, then the values.
        model.GetInitializer("head.weight").Dims[0] = rows;
        model.GetInitializer("head.bias").Dims[0] = rows;
        model.ReplaceInitializer("head.weight", w2);
        model.ReplaceInitializer("head.bias", b2);
        model.Graph.Output.Single(o => o.Name == "logits").Type.TensorType.Shape.Dim[1].DimValue = rows;
        model.Save(path, OnnxSaveOptions.Inline);
        return path;
    }

    private static MergeResult Merge(string method, string @base, string[] tasks, string @out, IReadOnlyList<string>? data = null) =>
        Merger.Merge(new MergeRequest
        {
            Method = method, Base = @base, Models = tasks, Private = Head, Out = @out, Seed = 5,
            Data = data ?? [], Set = Quick.GetValueOrDefault(method) ?? new Dictionary<string, string>(),
        });

    private static Dictionary<string, (long[] Shape, byte[] Bytes)> Onnx(string path)
    {
        var m = OnnxModel.Load(path);
        return m.ListInitializers().ToDictionary(i => i.Name, i =>
        {
            using var t = m.ReadInitializer(i.Name);
            return (t.ShapeArray(), t.Bytes.ToArray());
        });
    }

    [TestCaseSource(nameof(Methods))]
    public void OnnxModelsWithHeadsOf2104Classes(string method)
    {
        using var dir = Fixtures.NewTempDir();
        Directory.CreateDirectory(dir.File("own"));
        Directory.CreateDirectory(dir.File("same"));
        var own = Classes.Select((c, k) => HeadOf(k, c, c, dir.File($"own/task_{k + 1}.onnx"))).ToArray();
        var same = Classes.Select((c, k) => HeadOf(k, c, Padded, dir.File($"same/task_{k + 1}.onnx"))).ToArray();
        bool needsData = MethodRegistry.Get(method).NeedsData;
        var data = needsData ? AdaMergingFixture.Data : null;
        Merge(method, AdaMergingFixture.Base, own, dir.File("out-own"), data);
        Merge(method, AdaMergingFixture.Base, same, dir.File("out-same"), data);

        for (int k = 0; k < Classes.Length; k++)
        {
            string name = $"task_{k + 1}.onnx";
            var input = Onnx(own[k]);
            var output = Onnx(dir.File($"out-own/{name}"));
            var reference = Onnx(dir.File($"out-same/{name}"));
            Assert.That(output.Keys, Is.EquivalentTo(input.Keys));
            foreach (string head in new[] { "head.weight", "head.bias" })
            {
                Assert.That(output[head].Shape, Is.EqualTo(input[head].Shape), $"{method}: task {k + 1} {head}");
                Assert.That(output[head].Bytes, Is.EqualTo(input[head].Bytes), $"{method}: task {k + 1} keeps its own {head}");
            }
            foreach (var (tensor, value) in output.Where(kv => !kv.Key.StartsWith("head.", StringComparison.Ordinal)))
            {
                if (!ThroughSoftmax.Contains(method))
                {
                    Assert.That(value.Bytes, Is.EqualTo(reference[tensor].Bytes), $"{method}: shared '{tensor}' of task {k + 1}");
                    continue;
                }
                var a = MemoryMarshalFloats(value.Bytes);
                var b = MemoryMarshalFloats(reference[tensor].Bytes);
                double scale = b.Max(x => Math.Abs((double)x)) + 1e-30;
                for (int i = 0; i < a.Length; i++)
                    Assert.That(a[i], Is.EqualTo(b[i]).Within(1e-5 * scale), $"{method}: shared '{tensor}'[{i}] of task {k + 1}");
            }
            // Every task's output is the same shared model: identical shared bytes across tasks
            // (except for methods that write one model per task, e.g. EMR's masks and rescalers).
            var first = Onnx(dir.File("out-own/task_1.onnx"));
            if (!PerTaskModels.Contains(method))
                foreach (var (tensor, value) in output.Where(kv => !kv.Key.StartsWith("head.", StringComparison.Ordinal)))
                    Assert.That(value.Bytes, Is.EqualTo(first[tensor].Bytes), tensor);

            // ONNX Runtime runs the output with the task's own graph: logits over the task's own classes.
            string labels = dir.File($"labels_{k}.npy");
            TanhMlp.WriteLabels(labels, new long[32]);
            var r = Evaluator.Evaluate(dir.File($"out-own/{name}"), AdaMergingFixture.Data[k], labels);
            Assert.That(r.ClassCount, Is.EqualTo(Classes[k]), $"{method}: task {k + 1}'s logits");
        }
    }

    private static float[] MemoryMarshalFloats(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();

    private static readonly Spec[] Tower = [new("enc.weight", DType.F32, 8, 5), new("enc.bias", DType.F32, 8), new("norm.scale", DType.BF16, 8)];

    private static Spec[] HeadSpecs(int classes) => [new("head.weight", DType.F32, classes, 8), new("head.bias", DType.F16, classes)];

    /// <summary>Random values for <paramref name="specs"/>.</summary>
    private static float[][] Values(Random rng, Spec[] specs) =>
        specs.Select(s => Enumerable.Range(0, (int)s.Count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();

    [TestCaseSource(nameof(DataFreeMethods))]
    public void SafetensorsCheckpointsWithHeadsOf2104Classes(string method)
    {
        foreach (bool headless in new[] { false, true })
        {
            using var dir = Fixtures.NewTempDir();
            var rng = new Random(9);
            var baseTower = Values(rng, Tower);
            string @base = dir.File("base.safetensors");
            TestModels.Write(@base, headless ? Tower : [.. Tower, .. HeadSpecs(3)], headless ? baseTower : [.. baseTower, .. Values(rng, HeadSpecs(3))]);
            Directory.CreateDirectory(dir.File("own"));
            Directory.CreateDirectory(dir.File("same"));
            var own = new string[Classes.Length];
            var same = new string[Classes.Length];
            for (int k = 0; k < Classes.Length; k++)
            {
                var tower = baseTower.Select(v => v.Select(x => x + (float)((rng.NextDouble() * 2 - 1) * 0.1)).ToArray()).ToArray();
                own[k] = dir.File($"own/t{k}.safetensors");
                same[k] = dir.File($"same/t{k}.safetensors");
                TestModels.Write(own[k], [.. Tower, .. HeadSpecs(Classes[k])], [.. tower, .. Values(rng, HeadSpecs(Classes[k]))]);
                TestModels.Write(same[k], [.. Tower, .. HeadSpecs(Padded)], [.. tower, .. Values(rng, HeadSpecs(Padded))]);
            }
            Merge(method, @base, own, dir.File("out-own"));
            Merge(method, @base, same, dir.File("out-same"));
            for (int k = 0; k < Classes.Length; k++)
            {
                using var input = SafetensorsFile.Open(own[k]);
                using var output = SafetensorsFile.Open(dir.File($"out-own/t{k}.safetensors"));
                using var reference = SafetensorsFile.Open(dir.File($"out-same/t{k}.safetensors"));
                Assert.That(output.Names, Is.EqualTo(input.Names), $"{method}: task {k}'s own tensors, in its own order (headless base: {headless})");
                foreach (string name in input.Names)
                {
                    using var o = output.Get(name);
                    using var i = input.Get(name);
                    Assert.That(o.ShapeArray(), Is.EqualTo(i.ShapeArray()), name);
                    if (name.StartsWith("head.", StringComparison.Ordinal))
                    {
                        Assert.That(o.Bytes.ToArray(), Is.EqualTo(i.Bytes.ToArray()), $"{method}: task {k} keeps its own {name}");
                        continue;
                    }
                    using var r = reference.Get(name);
                    Assert.That(o.Bytes.ToArray(), Is.EqualTo(r.Bytes.ToArray()), $"{method}: shared '{name}' (headless base: {headless})");
                }
            }
        }
    }
}
