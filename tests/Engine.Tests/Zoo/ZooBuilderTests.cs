using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Data;
using Amalgam.Engine.Zoo;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Tests.Zoo;

/// <summary>Builds real (tiny, short-budget) zoos from the bootstrap's data sets.</summary>
public class ZooBuilderTests
{
    private string _dir = "";
    private BuiltZoo? _shared;

    [OneTimeSetUp]
    public void SetUp()
    {
        if (!DataPaths.AllPresent()) Assert.Ignore("MNIST / Fashion-MNIST not installed (./build.sh --target=Bootstrap)");
        _dir = Path.Combine(Path.GetTempPath(), "amalgam-zoo-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A tiny two-task zoo built on one thread, shared by the tests that only read it.</summary>
    private BuiltZoo Shared => _shared ??= ZooBuilder.BuildOrLoad(Options("a", 1, "mnist-parity", "fashion-rot90"));

    private ZooOptions Options(string cache, int threads, params string[] tasks) => new()
    {
        CacheDir = Path.Combine(_dir, cache), Size = "tiny", Tasks = tasks, Seed = 11, Budget = 0.05, Threads = threads, TestSamples = 300,
    };

    [Test]
    public void SameSeedGivesIdenticalFilesAtAnyThreadCountAndTheCacheIsReused()
    {
        var one = Shared;
        var two = ZooBuilder.BuildOrLoad(Options("b", 2, "mnist-parity", "fashion-rot90"));
        var files = Files(one.Folder);
        Assert.That(files, Is.EqualTo(Files(two.Folder)));
        Assert.That(files, Does.Contain("base.onnx").And.Contain("zoo.json").And.Contain(Path.Combine("finetuned", "fashion-rot90.onnx")));
        foreach (string f in files)
            Assert.That(File.ReadAllBytes(Path.Combine(two.Folder, f)), Is.EqualTo(File.ReadAllBytes(Path.Combine(one.Folder, f))), f);
        // Nothing but the finished zoo is left in the cache.
        Assert.That(Directory.GetDirectories(Path.Combine(_dir, "a")), Is.EqualTo(new[] { one.Folder }));

        int builds = ZooBuilder.BuildCount;
        var stamps = files.ToDictionary(f => f, f => File.GetLastWriteTimeUtc(Path.Combine(one.Folder, f)));
        var again = ZooBuilder.BuildOrLoad(Options("a", 2, "mnist-parity", "fashion-rot90"));
        Assert.That(ZooBuilder.BuildCount, Is.EqualTo(builds), "the second call rebuilt the zoo");
        Assert.That(again.Folder, Is.EqualTo(one.Folder));
        Assert.That(again.Tasks, Is.EqualTo(one.Tasks));
        foreach (string f in files) Assert.That(File.GetLastWriteTimeUtc(Path.Combine(one.Folder, f)), Is.EqualTo(stamps[f]), f);

        // A damaged zoo (a file deleted by hand) is rebuilt, to the same bytes.
        string victim = Path.Combine(two.Folder, "finetuned", "mnist-parity.onnx");
        byte[] before = File.ReadAllBytes(victim);
        File.Delete(victim);
        ZooBuilder.BuildOrLoad(Options("b", 2, "mnist-parity", "fashion-rot90"));
        Assert.That(ZooBuilder.BuildCount, Is.EqualTo(builds + 1));
        Assert.That(File.ReadAllBytes(victim), Is.EqualTo(before));
    }

    [Test]
    public void EveryModelHasTheSameTowerAndItsOwnHeadOfItsClassCount()
    {
        var zoo = Shared;
        var reference = Tensors(zoo.Base);
        var privateNames = new System.Text.RegularExpressions.Regex(zoo.PrivateRegex);
        Assert.That(reference.Keys.Where(n => privateNames.IsMatch(n)).Order(), Is.EqualTo(new[] { "head.bias", "head.weight" }));
        var tower = reference.Where(kv => !privateNames.IsMatch(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value.Shape);
        Assert.That(reference.Where(kv => !privateNames.IsMatch(kv.Key)).Sum(kv => kv.Value.Count), Is.EqualTo(zoo.ParameterCount));
        int embed = (int)reference["proj"].Shape[1];
        Assert.That(zoo.Tasks.Select(t => t.ClassCount).Distinct().Count(), Is.GreaterThan(1), "the shared zoo mixes class counts");
        foreach (var task in zoo.Tasks)
        {
            var pretrained = Tensors(task.Pretrained);
            var fineTuned = Tensors(task.FineTuned);
            foreach (var m in new[] { pretrained, fineTuned })
            {
                Assert.That(m.Where(kv => !privateNames.IsMatch(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value.Shape), Is.EqualTo(tower), task.Name);
                // The task's own head: one row per class of the task.
                Assert.That(m["head.weight"].Shape, Is.EqualTo(new long[] { task.ClassCount, embed }), task.Name);
                Assert.That(m["head.bias"].Shape, Is.EqualTo(new long[] { task.ClassCount }), task.Name);
            }
            // The head stays frozen; the tower moves.
            Assert.That(fineTuned["head.weight"].Values, Is.EqualTo(pretrained["head.weight"].Values), task.Name);
            Assert.That(fineTuned["blocks.0.mlp.c_fc.weight"].Values, Is.Not.EqualTo(pretrained["blocks.0.mlp.c_fc.weight"].Values), task.Name);
            // Every task's pretrained tower is the same one (only the heads differ).
            Assert.That(pretrained["proj"].Values, Is.EqualTo(reference["proj"].Values), task.Name);

            using var x = NpyFile.Read(task.TestInputs);
            using var y = NpyFile.Read(task.TestLabels);
            Assert.That(x.ShapeArray(), Is.EqualTo(new long[] { 300, 1, 28, 28 }));
            Assert.That(y.DType, Is.EqualTo(DType.I64));
            Assert.That(y.Read<long>().ToArray().Distinct().Order(), Is.EqualTo(Enumerable.Range(0, task.ClassCount).Select(i => (long)i)));
        }
    }

    /// <summary>Probe ("zero-shot") vs fine-tuned accuracy on each task's own test images.</summary>
    [Test]
    public void FineTunedBeatsItsLinearProbe()
    {
        var zoo = ZooBuilder.BuildOrLoad(Options("d", 0, "mnist", "fashion-group") with { Budget = 0.2, TestSamples = 2000 });
        foreach (var task in zoo.Tasks)
        {
            using var x = NpyFile.Read(task.TestInputs);
            using var y = NpyFile.Read(task.TestLabels);
            double probe = Accuracy(task.Pretrained, x, y), fineTuned = Accuracy(task.FineTuned, x, y);
            TestContext.Out.WriteLine($"{task.Name}: probe {probe:P1}, fine-tuned {fineTuned:P1}");
            Assert.That(probe, Is.GreaterThan(1.5 / task.ClassCount), $"{task.Name}: the pretrained features are no better than chance");
            Assert.That(fineTuned, Is.GreaterThan(probe), task.Name);
        }
    }

    [Test]
    public void BadOptionsAreOneLineErrors()
    {
        Assert.Throws<BadInputException>(() => ZooBuilder.BuildOrLoad(Options("e", 0, "no-such-task")));
        Assert.Throws<BadInputException>(() => ZooBuilder.BuildOrLoad(Options("e", 0, "mnist", "mnist")));
        Assert.Throws<BadInputException>(() => ZooBuilder.BuildOrLoad(Options("e", 0, "mnist") with { Size = "huge" }));
        Assert.Throws<BadInputException>(() => ZooBuilder.BuildOrLoad(Options("e", 0, "mnist") with { Budget = 0 }));
        Assert.That(Directory.Exists(Path.Combine(_dir, "e")), Is.False);
    }

    private static double Accuracy(string model, Tensor x, Tensor y)
    {
        using var session = OnnxSession.FromFile(model, new SessionSettings { IntraOpThreads = 1 });
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["image"] = x }, ["logits"]);
        var logits = outputs[0].Read<float>();
        var labels = y.Read<long>();
        int classes = logits.Length / labels.Length, correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            var row = logits.Slice(i * classes, classes);
            int arg = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[arg]) arg = c;
            if (arg == labels[i]) correct++;
        }
        return (double)correct / labels.Length;
    }

    private static string[] Files(string dir) => Support.TestModels.FilesIn(dir).Where(f => File.Exists(Path.Combine(dir, f))).ToArray();

    private static Dictionary<string, (long[] Shape, long Count, float[] Values)> Tensors(string path)
    {
        var m = Amalgam.OnnxIO.Onnx.OnnxModel.Load(path);
        return m.ListInitializers().ToDictionary(i => i.Name, i =>
        {
            using var t = m.ReadInitializer(i.Name);
            return (t.ShapeArray(), t.ElementCount, t.Read<float>().ToArray());
        });
    }
}
