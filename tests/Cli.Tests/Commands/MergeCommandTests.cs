using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Cli.Tests.Commands;

public class MergeCommandTests
{
    private static string[] Merge(string @base, IEnumerable<string> tasks, string @out, params string[] extra) =>
        new[] { "merge", "--method", "task_arithmetic", "--base", @base }
            .Concat(tasks.SelectMany(t => new[] { "--model", t })).Concat(["--out", @out]).Concat(extra).ToArray();

    [Test]
    public void TaskArithmeticThroughTheCliMatchesTheF64Reference()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 40);
        var (exit, stdout, stderr) = CliHarness.Run(Merge(b, tasks, dir.File("out.safetensors"), "--set", "lambda=0.4", "--set", "weights=0.5,1,1.5"));
        Assert.That((exit, stderr), Is.EqualTo((0, "")));
        Assert.That(stdout, Does.Contain("task_arithmetic").And.Contain("out.safetensors"));
        TestModels.AssertTaskArithmetic(TestModels.ReadSafetensors(dir.File("out.safetensors")), TestModels.Mixed.ToDictionary(s => s.Name, s => s.DType),
            TestModels.ReadSafetensors(b), tasks.Select(TestModels.ReadSafetensors).ToList(), 0.4, [0.5, 1, 1.5]);
    }

    [Test]
    public void OneAndTwoThreadsWriteIdenticalBytes()
    {
        using var dir = Fixtures.NewTempDir();
        var specs = TestModels.Mixed.Append(new Spec("z.large", DType.F32, 200_003)).ToArray();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, specs, 2, seed: 41);
        Assert.That(CliHarness.Run(Merge(b, tasks, dir.File("t1.safetensors"), "--threads", "1")).Exit, Is.EqualTo(0));
        Assert.That(CliHarness.Run(Merge(b, tasks, dir.File("t2.safetensors"), "--threads", "2")).Exit, Is.EqualTo(0));
        Assert.That(File.ReadAllBytes(dir.File("t2.safetensors")), Is.EqualTo(File.ReadAllBytes(dir.File("t1.safetensors"))));
    }

    [Test]
    public void YamlConfigGivesTheSameBytesAsFlags()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 42);
        Assert.That(CliHarness.Run(Merge(b, tasks, dir.File("flags.safetensors"), "--set", "lambda=0.8", "--set", "weights=2,0.25")).Exit, Is.EqualTo(0));
        File.WriteAllText(dir.File("merge.yaml"), """
            merge_method: task_arithmetic
            base_model: base.safetensors
            models:
              - model: task0.safetensors
                parameters: {weight: 2}
              - model: task1.safetensors
                parameters: {weight: 0.25}
            parameters:
              lambda: 0.8
            out: yaml.safetensors
            """);
        var (exit, _, err) = CliHarness.Run("merge", "--config", dir.File("merge.yaml"));
        Assert.That((exit, err), Is.EqualTo((0, "")));
        Assert.That(File.ReadAllBytes(dir.File("yaml.safetensors")), Is.EqualTo(File.ReadAllBytes(dir.File("flags.safetensors"))));
        // --out overrides the config's out; dtype converts.
        File.AppendAllText(dir.File("merge.yaml"), "\ndtype: bfloat16\n");
        Assert.That(CliHarness.Run("merge", "--config", dir.File("merge.yaml"), "--out", dir.File("bf16.safetensors")).Exit, Is.EqualTo(0));
        using var src = OnnxIO.Safetensors.SafetensorsSource.Open(dir.File("bf16.safetensors"));
        Assert.That(src.Names.Select(n => src.Entry(n).DType).Distinct(), Is.EqualTo(new[] { DType.BF16 }));
    }

    [Test]
    public void ReportHoldsMethodParametersTasksTimingAndBytes()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 43);
        var (exit, _, err) = CliHarness.Run(Merge(b, tasks, dir.File("out.safetensors"), "--set", "lambda=0.25", "--seed", "7", "--report", dir.File("report.json")));
        Assert.That((exit, err), Is.EqualTo((0, "")));
        using var doc = JsonDocument.Parse(File.ReadAllText(dir.File("report.json")));
        var r = doc.RootElement;
        Assert.That(r.GetProperty("method").GetString(), Is.EqualTo("task_arithmetic"));
        var p = r.GetProperty("parameters");
        Assert.That(p.GetProperty("lambda").GetDouble(), Is.EqualTo(0.25));
        Assert.That(p.GetProperty("weights").EnumerateArray().Select(e => e.GetDouble()), Is.EqualTo(new[] { 1.0, 1.0 }), "defaults included");
        Assert.That(r.GetProperty("tasks").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "task0", "task1" }));
        Assert.That(r.GetProperty("seconds").GetDouble(), Is.GreaterThan(0));
        Assert.That(r.GetProperty("bytes_read").GetInt64(), Is.EqualTo(3 * TestModels.Mixed.Sum(s => s.Count * s.DType.Size())));
        Assert.That(r.GetProperty("seed").GetUInt64(), Is.EqualTo(7UL));
        Assert.That(r.GetProperty("results").ValueKind, Is.EqualTo(JsonValueKind.Object));
    }

    [Test]
    public void DataIsAWarningForTrainingFreeMethods()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 44);
        var (exit, _, err) = CliHarness.Run(Merge(b, tasks, dir.File("out.safetensors"), "--data", "x.npy", "--data", "y.npy"));
        Assert.That(exit, Is.EqualTo(0));
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.Contain("warning").And.Contain("--data"));
    }

    [Test]
    public void CudaWithoutAUsableCudaProviderIsOneLineExitTwoAndNothingWritten()
    {
        if (Amalgam.OnnxIO.Runtime.RuntimeEnvironment.HasCudaProvider) Assert.Ignore("GPU flavour: bench/gpu/check.sh covers --device cuda");
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 44);
        string output = dir.File("out.safetensors");
        var (exit, _, err) = CliHarness.Run(Merge(b, tasks, output, "--device", "cuda:1"));
        Assert.That(exit, Is.EqualTo(2));
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), err);
        Assert.That(lines[0], Does.Contain("--device cuda").And.Contain("no CUDA provider").And.Contain("--gpu"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void HelpListsMethodsWithParametersAndDefaults()
    {
        var (exit, stdout, _) = CliHarness.Run("merge", "--help");
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(stdout, Does.Contain("task_arithmetic").And.Contain("lambda (default 0.3)").And.Contain("--private"));
        // Every registered method and parameter is listed, from the registry.
        foreach (var m in Amalgam.Engine.Merging.MethodRegistry.All)
        {
            Assert.That(stdout, Does.Contain($"  {m.Name}: "));
            foreach (var p in m.Parameters) Assert.That(stdout, Does.Contain($"    {p.Name} ("), $"{m.Name}.{p.Name}");
        }
        // The root help keeps one line per command.
        var (rootExit, root, _) = CliHarness.Run("--help");
        Assert.That(rootExit, Is.EqualTo(0));
        Assert.That(root, Does.Contain("merge").And.Not.Contain("lambda (default"));
    }

    [Test]
    public void OnnxPrivateHeadsThroughTheCli()
    {
        using var dir = Fixtures.NewTempDir();
        string baseOnnx = Fixtures.Onnx("roberta_tiny_op17");
        string[] tasks = TestModels.PerturbedOnnxCopies(baseOnnx, dir.Path, 2, seed: 45);
        var (exit, _, err) = CliHarness.Run(Merge(baseOnnx, tasks, dir.File("out"), "--private", "^classifier"));
        Assert.That((exit, err), Is.EqualTo((0, "")), err);
        foreach (string t in new[] { "task0", "task1" })
            Assert.That(OnnxModelComparer.Compare(OnnxModel.Load(baseOnnx), OnnxModel.Load(dir.File($"out/{t}.onnx"))), Is.Empty);
    }

    /// <summary>The new user's case: a base and three classifiers whose heads have 4, 3 and 6 classes.</summary>
    [Test]
    public void PrivateHeadsOfDifferentClassCountsMergeAndEachTaskKeepsItsOwn()
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(12);
        var tower = HeadedMlp.RandomShared(rng);
        HeadedMlp Model(int c) => new(c, tower.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => (double)(float)(v + 0.05 * rng.NextDouble())).ToArray()),
            HeadedMlp.Random(rng, c * HeadedMlp.Hidden, 1), HeadedMlp.Random(rng, c, 1));
        Model(4).Save(dir.File("base.onnx"));
        var tasks = new[] { ("a", 4), ("b", 3), ("c", 6) }.Select(t => { Model(t.Item2).Save(dir.File(t.Item1 + ".onnx")); return dir.File(t.Item1 + ".onnx"); }).ToArray();
        var args = new[] { "merge", "--method", "ties", "--base", dir.File("base.onnx") }.Concat(tasks.SelectMany(t => new[] { "--model", t }))
            .Concat(["--private", @"^head\.", "--out", dir.File("merged")]).ToArray();
        var (exit, _, stderr) = CliHarness.Run(args);
        Assert.That((exit, stderr), Is.EqualTo((0, "")));
        foreach (var (name, classes) in new[] { ("a", 4L), ("b", 3L), ("c", 6L) })
        {
            var m = OnnxModel.Load(dir.File($"merged/{name}.onnx"));
            Assert.That(m.ListInitializers().Single(i => i.Name == "head.weight").Shape, Is.EqualTo(new[] { classes, HeadedMlp.Hidden }), name);
            Assert.That(m.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue, Is.EqualTo(classes), name);
        }

        // A difference outside the heads: exit 2, one line naming the file and the node, nothing written.
        var edited = OnnxModel.Load(tasks[1]);
        edited.Graph.Node.First(n => n.OpType == "Tanh").OpType = "Relu";
        edited.Save(tasks[1], OnnxSaveOptions.Inline);
        args[^1] = dir.File("merged2");
        (exit, _, stderr) = CliHarness.Run(args);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr.TrimEnd(), Does.Contain("b.onnx").And.Contain("outside the --private parameters").And.Contain("op Tanh vs Relu").And.Not.Contain("\n"));
        Assert.That(Directory.Exists(dir.File("merged2")), Is.False);
    }
}
