using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Merging;

/// <summary>Whole merges through the library facade, checked against f64 references written here.</summary>
public class MergerTests
{
    private static MergeResult TaskArithmetic(string @base, string[] tasks, string @out, double lambda = 0.3, string? weights = null,
        DType? dtype = null, int threads = 0, string? priv = null)
    {
        var set = new Dictionary<string, string> { ["lambda"] = lambda.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (weights is not null) set["weights"] = weights;
        return Merger.Merge(new MergeRequest { Method = "task_arithmetic", Base = @base, Models = tasks, Out = @out, Set = set, OutputDType = dtype, Threads = threads, Private = priv });
    }

    [Test]
    public void TaskArithmeticOnMixedDtypesMatchesTheF64Reference()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 10);
        var result = TaskArithmetic(b, tasks, dir.File("out.safetensors"), lambda: 0.7, weights: "1,0.5,2");
        var merged = TestModels.ReadSafetensors(dir.File("out.safetensors"));
        Assert.That(merged.Keys, Is.EquivalentTo(TestModels.Mixed.Select(s => s.Name)));
        TestModels.AssertTaskArithmetic(merged, TestModels.Mixed.ToDictionary(s => s.Name, s => s.DType), TestModels.ReadSafetensors(b),
            tasks.Select(TestModels.ReadSafetensors).ToList(), 0.7, [1, 0.5, 2]);
        using (var src = SafetensorsSource.Open(dir.File("out.safetensors")))
            foreach (var s in TestModels.Mixed) Assert.That(src.Entry(s.Name).DType, Is.EqualTo(s.DType), "dtype kept");
        Assert.That(result.Tasks, Is.EqualTo(new[] { "task0", "task1", "task2" }));
        long perModel = TestModels.Mixed.Sum(s => s.Count * s.DType.Size());
        Assert.That(result.BytesRead, Is.EqualTo(4 * perModel));
        Assert.That(result.Parameters.Single(p => p.Name == "weights").Value, Is.EqualTo(new[] { 1.0, 0.5, 2.0 }));
    }

    [TestCase(DType.BF16)]
    [TestCase(DType.F16)]
    [TestCase(DType.F32)]
    public void OutputDtypeIsHonoured(DType dtype)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 11);
        TaskArithmetic(b, tasks, dir.File("out.safetensors"), dtype: dtype);
        var merged = TestModels.ReadSafetensors(dir.File("out.safetensors"));
        using (var src = SafetensorsSource.Open(dir.File("out.safetensors")))
            foreach (var s in TestModels.Mixed) Assert.That(src.Entry(s.Name).DType, Is.EqualTo(dtype));
        TestModels.AssertTaskArithmetic(merged, merged.Keys.ToDictionary(k => k, _ => dtype), TestModels.ReadSafetensors(b),
            tasks.Select(TestModels.ReadSafetensors).ToList(), 0.3, [1, 1]);
    }

    [Test]
    public void ShardedInputGivesShardedOutputThatReadsBack()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 12);
        string Shard(string file)
        {
            string folder = Path.ChangeExtension(file, null) + "_sharded";
            Directory.CreateDirectory(folder);
            var all = TestModels.Mixed.Select(s => { using var src = SafetensorsSource.Open(file); using var t = src.Get(s.Name); return t.Clone(); }).ToList();
            ShardedSafetensorsWriter.WriteAll(folder, all, maxShardBytes: 4096);
            all.ForEach(t => t.Dispose());
            return folder;
        }
        string sb = Shard(b);
        string[] st = tasks.Select(Shard).ToArray();
        TaskArithmetic(sb, st, dir.File("merged"));
        Assert.That(File.Exists(dir.File("merged/model.safetensors.index.json")), Is.True);
        using var merged = (Amalgam.Engine.Checkpoints.SafetensorsCheckpoint)Amalgam.Engine.Checkpoints.Checkpoint.Open(dir.File("merged"));
        using var baseCp = (Amalgam.Engine.Checkpoints.SafetensorsCheckpoint)Amalgam.Engine.Checkpoints.Checkpoint.Open(sb);
        Assert.That(merged.ShardFiles.Count, Is.EqualTo(baseCp.ShardFiles.Count));
        Assert.That(merged.MaxShardBytes, Is.EqualTo(baseCp.MaxShardBytes));
        // Same bytes as merging the single files.
        TaskArithmetic(b, tasks, dir.File("single.safetensors"));
        var single = TestModels.ReadSafetensors(dir.File("single.safetensors"));
        var sharded = TestModels.ReadSafetensors(dir.File("merged"));
        Assert.That(sharded, Is.EqualTo(single));
    }

    [Test]
    public void ThreadCountDoesNotChangeOneByte()
    {
        using var dir = Fixtures.NewTempDir();
        var specs = TestModels.Mixed.Append(new Spec("g.large", DType.BF16, 300_001)).ToArray();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, specs, 3, seed: 13);
        TaskArithmetic(b, tasks, dir.File("t1.safetensors"), threads: 1);
        TaskArithmetic(b, tasks, dir.File("t2.safetensors"), threads: 2);
        TaskArithmetic(b, tasks, dir.File("t4.safetensors"), threads: 4);
        byte[] one = File.ReadAllBytes(dir.File("t1.safetensors"));
        Assert.That(File.ReadAllBytes(dir.File("t2.safetensors")), Is.EqualTo(one));
        Assert.That(File.ReadAllBytes(dir.File("t4.safetensors")), Is.EqualTo(one));
    }

    [TestCase(float.NaN, "NaN", "e.big", 12345)]
    [TestCase(float.PositiveInfinity, "+Inf", "e.big", 12345)]
    [TestCase(float.NegativeInfinity, "-Inf", "d.brain", 100)]   // bf16: checked on the stored bits
    [TestCase(float.NaN, "NaN", "c.half", 77)]                   // f16
    public void NonFiniteInputIsAnErrorNamingFileAndTensorAndLeavesNothing(float poison, string word, string tensor, int element)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 14);
        // Rewrite task1 with one poisoned element in the largest tensor (late in sorted order).
        var values = TestModels.ReadSafetensors(tasks[1]);
        var floats = TestModels.Mixed.Select(s => values[s.Name].Select(v => (float)v).ToArray()).ToArray();
        floats[Array.FindIndex(TestModels.Mixed, s => s.Name == tensor)][element] = poison;
        TestModels.Write(tasks[1], TestModels.Mixed, floats);
        var before = TestModels.FilesIn(dir.Path);
        var e = Assert.Throws<BadInputException>(() => TaskArithmetic(b, tasks, dir.File("out.safetensors")))!;
        Assert.That(e.Message, Does.Contain("task1.safetensors").And.Contain($"'{tensor}' holds {word} at element {element}"));
        Assert.That(TestModels.FilesIn(dir.Path), Is.EqualTo(before), "no output and no temp file left");
    }

    [Test]
    public void OutputEqualToAnInputIsRefused()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 15);
        byte[] original = File.ReadAllBytes(tasks[1]);
        var e = Assert.Throws<BadInputException>(() => TaskArithmetic(b, tasks, tasks[1]))!;
        Assert.That(e.Message, Does.Contain("--out").And.Contain("task1.safetensors"));
        Assert.That(File.ReadAllBytes(tasks[1]), Is.EqualTo(original));
        // With --private the folder would receive task0.safetensors: the input itself.
        var e2 = Assert.Throws<BadInputException>(() => TaskArithmetic(b, tasks, dir.Path, priv: @"^c\."))!;
        Assert.That(e2.Message, Does.Contain("would overwrite"));
    }

    [Test]
    public void OnnxInOnnxOutWithSameStructureAndReferenceValues()
    {
        using var dir = Fixtures.NewTempDir();
        string[] tasks = TestModels.PerturbedOnnxCopies(Fixtures.Onnx("vit_tiny_op17"), dir.Path, 3, seed: 16);
        TaskArithmetic(Fixtures.Onnx("vit_tiny_op17"), tasks, dir.File("merged.onnx"), lambda: 0.5);
        var baseModel = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        var merged = OnnxModel.Load(dir.File("merged.onnx"));
        Assert.That(OnnxModelComparer.Compare(baseModel, merged), Is.Empty);
        var m = TestModels.ReadOnnx(dir.File("merged.onnx"));
        TestModels.AssertTaskArithmetic(m, m.Keys.ToDictionary(k => k, _ => DType.F32), TestModels.ReadOnnx(Fixtures.Onnx("vit_tiny_op17")),
            tasks.Select(TestModels.ReadOnnx).ToList(), 0.5, [1, 1, 1]);
    }

    [Test]
    public void OnnxWithExternalDataStaysExternal()
    {
        using var dir = Fixtures.NewTempDir();
        string source = Fixtures.Onnx(Fixtures.External);
        string[] tasks = TestModels.PerturbedOnnxCopies(source, dir.Path, 2, seed: 17, OnnxSaveOptions.External());
        TaskArithmetic(source, tasks, dir.File("merged.onnx"));
        Assert.That(File.Exists(dir.File("merged.onnx.data")), Is.True);
        var merged = OnnxModel.Load(dir.File("merged.onnx"));
        Assert.That(merged.ListInitializers().Any(i => i.IsExternal), Is.True);
        var m = TestModels.ReadOnnx(dir.File("merged.onnx"));
        TestModels.AssertTaskArithmetic(m, m.Keys.ToDictionary(k => k, _ => DType.F32), TestModels.ReadOnnx(source),
            tasks.Select(TestModels.ReadOnnx).ToList(), 0.3, [1, 1]);
    }

    [Test]
    public void PrivateHeadsGiveOneOnnxModelPerTaskEachWithItsOwnHead()
    {
        using var dir = Fixtures.NewTempDir();
        string baseOnnx = Fixtures.Onnx("vit_tiny_op17");
        string[] tasks = TestModels.PerturbedOnnxCopies(baseOnnx, dir.Path, 2, seed: 18);
        var result = TaskArithmetic(baseOnnx, tasks, dir.File("out"), priv: @"^heads\.");
        Assert.That(result.PrivateTensors, Is.EqualTo(2));
        Assert.That(TestModels.FilesIn(dir.File("out")), Is.EqualTo(new[] { "task0.onnx", "task1.onnx" }));
        var theta0 = TestModels.ReadOnnx(baseOnnx);
        var thetas = tasks.Select(TestModels.ReadOnnx).ToList();
        for (int k = 0; k < 2; k++)
        {
            string path = dir.File($"out/task{k}.onnx");
            Assert.That(OnnxModelComparer.Compare(OnnxModel.Load(baseOnnx), OnnxModel.Load(path)), Is.Empty);
            var m = TestModels.ReadOnnx(path);
            Assert.That(m["heads.head.weight"], Is.EqualTo(thetas[k]["heads.head.weight"]), "own head");
            Assert.That(m["heads.head.bias"], Is.EqualTo(thetas[k]["heads.head.bias"]));
            var shared = m.Where(kv => !kv.Key.StartsWith("heads.")).ToDictionary();
            TestModels.AssertTaskArithmetic(shared, shared.Keys.ToDictionary(x => x, _ => DType.F32), theta0, thetas, 0.3, [1, 1]);
        }
    }

    [Test]
    public void PrivateSafetensorsKeepEachTasksOwnTensors()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 19);
        TaskArithmetic(b, tasks, dir.File("out"), priv: @"^c\.");
        for (int k = 0; k < 2; k++)
        {
            var m = TestModels.ReadSafetensors(dir.File($"out/task{k}.safetensors"));
            Assert.That(m["c.half"], Is.EqualTo(TestModels.ReadSafetensors(tasks[k])["c.half"]));
        }
        Assert.That(File.ReadAllBytes(dir.File("out/task0.safetensors")).Length, Is.EqualTo(File.ReadAllBytes(dir.File("out/task1.safetensors")).Length));
    }

    [Test]
    public void UnknownMethodAndBadOptionsAreBadInput()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 20);
        Assert.That(() => Merger.Merge(new MergeRequest { Method = "nope", Base = b, Models = tasks, Out = dir.File("o.safetensors") }),
            Throws.TypeOf<BadInputException>().With.Message.Contain("unknown method 'nope'"));
        Assert.That(() => TaskArithmetic(b, tasks, dir.File("o.safetensors"), weights: "1,2,3"),
            Throws.TypeOf<BadInputException>().With.Message.Contain("weights"));
        Assert.That(() => Merger.Merge(new MergeRequest { Method = "task_arithmetic", Base = b, Models = tasks, Out = dir.File("o.onnx") }),
            Throws.TypeOf<BadInputException>().With.Message.Contain("--out"));
        Assert.That(File.Exists(dir.File("o.safetensors")), Is.False);
    }

    [Test]
    public void ShardedPrivateGivesOneShardedModelPerTaskAndAFailedOneLeavesNoFolder()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 21);
        string Shard(string file)
        {
            string folder = Path.ChangeExtension(file, null);
            Directory.CreateDirectory(folder);
            var all = TestModels.Mixed.Select(s => { using var src = SafetensorsSource.Open(file); using var t = src.Get(s.Name); return t.Clone(); }).ToList();
            ShardedSafetensorsWriter.WriteAll(folder, all, maxShardBytes: 4096);
            all.ForEach(t => t.Dispose());
            return folder;
        }
        string sb = Shard(b);
        string[] st = tasks.Select(Shard).ToArray();
        TaskArithmetic(sb, st, dir.File("out"), priv: @"^c\.");
        for (int k = 0; k < 2; k++)
        {
            var m = TestModels.ReadSafetensors(dir.File($"out/task{k}.safetensors.index.json"));
            Assert.That(m["c.half"], Is.EqualTo(TestModels.ReadSafetensors(tasks[k])["c.half"]));
            Assert.That(m.Keys, Is.EquivalentTo(TestModels.Mixed.Select(s => s.Name)));
        }
        Assert.That(Directory.GetFiles(dir.File("out"), "task0-*-of-*.safetensors"), Has.Length.GreaterThan(1));

        // A merge that fails half-way removes the output folder it created.
        var values = TestModels.ReadSafetensors(tasks[1]);
        var floats = TestModels.Mixed.Select(s => values[s.Name].Select(v => (float)v).ToArray()).ToArray();
        floats[^1][2] = float.NegativeInfinity;   // f.double, last in sorted order
        TestModels.Write(tasks[1], TestModels.Mixed, floats);
        Assert.That(() => TaskArithmetic(b, tasks, dir.File("out2"), priv: @"^c\."),
            Throws.TypeOf<BadInputException>().With.Message.Contain("'f.double' holds -Inf at element 2"));
        Assert.That(Directory.Exists(dir.File("out2")), Is.False);
    }

    [Test]
    public void OnnxOutputsKeepTheirDtypes()
    {
        using var dir = Fixtures.NewTempDir();
        string baseOnnx = Fixtures.Onnx("vit_tiny_op17");
        Assert.That(() => TaskArithmetic(baseOnnx, [baseOnnx], dir.File("m.onnx"), dtype: DType.BF16),
            Throws.TypeOf<BadInputException>().With.Message.Contain("dtype bf16"));
        Assert.That(TestModels.FilesIn(dir.Path), Is.Empty);
    }

    [Test]
    public void DroppingResidentPagesKeepsTheDataReadable()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, _) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 1, seed: 22);
        using var src = SafetensorsSource.Open(b);
        using var t = src.Get("e.big");
        float[] before = t.Read<float>().ToArray();
        t.DropResidentPages();
        Assert.That(t.Read<float>().ToArray(), Is.EqualTo(before));
    }
}
