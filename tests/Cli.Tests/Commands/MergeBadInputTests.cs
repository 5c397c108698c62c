using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>Every bad input: exit 2, exactly one stderr line naming the culprit, nothing written.</summary>
public class MergeBadInputTests
{
    /// <summary>Prepares inputs in a folder and returns the arguments and the text the error must contain.</summary>
    public sealed record Case(string Name, Func<string, (string[] Args, string Culprit)> Setup)
    {
        public override string ToString() => Name;
    }

    private static (string Base, string[] Tasks) Random(string dir) => TestModels.WriteRandomSafetensors(dir, TestModels.Mixed, 2, seed: 50);

    private static string[] Merge(string @base, IEnumerable<string> tasks, string @out, params string[] extra) =>
        new[] { "merge", "--method", "task_arithmetic", "--base", @base }
            .Concat(tasks.SelectMany(t => new[] { "--model", t })).Concat(["--out", @out]).Concat(extra).ToArray();

    /// <summary>A task model like the random ones but with <paramref name="specs"/> instead.</summary>
    private static string Odd(string dir, Spec[] specs)
    {
        string path = Path.Combine(dir, "odd.safetensors");
        TestModels.Write(path, specs, specs.Select(s => new float[s.Count]).ToArray());
        return path;
    }

    private static Spec[] Replace(string name, Spec with) => TestModels.Mixed.Select(s => s.Name == name ? with : s).ToArray();

    public static IEnumerable<Case> Cases()
    {
        yield return new("mismatched names", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, [t[0], Odd(d, Replace("a.bias", new Spec("a.bias2", DType.F32, 13)))], Path.Combine(d, "o.safetensors")), "'a.bias2' not in the base");
        });
        yield return new("mismatched shapes", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, [t[0], Odd(d, Replace("a.bias", new Spec("a.bias", DType.F32, 14)))], Path.Combine(d, "o.safetensors")), "'a.bias' has shape [14]");
        });
        yield return new("mismatched dtypes", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, [t[0], Odd(d, Replace("a.bias", new Spec("a.bias", DType.F16, 13)))], Path.Combine(d, "o.safetensors")), "odd.safetensors");
        });
        yield return new("different graph structure", d =>
        {
            var m = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
            m.Graph.Node.First(n => n.OpType == "Softmax").OpType = "LogSoftmax";
            string edited = Path.Combine(d, "edited.onnx");
            m.Save(edited, OnnxSaveOptions.Inline);
            return (Merge(Fixtures.Onnx("vit_tiny_op17"), [edited], Path.Combine(d, "o.onnx")), "edited.onnx");
        });
        yield return new("missing file", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, [t[0], Path.Combine(d, "absent.safetensors")], Path.Combine(d, "o.safetensors")), "absent.safetensors");
        });
        yield return new("unknown method", d =>
        {
            var (b, t) = Random(d);
            var args = Merge(b, t, Path.Combine(d, "o.safetensors"));
            args[2] = "frankenmerge";
            return (args, "frankenmerge");
        });
        yield return new("unknown option", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--set", "density=0.5"), "density");
        });
        yield return new("unknown flag", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--frobnicate"), "--frobnicate");
        });
        yield return new("bad option value", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--set", "lambda=lots"), "lambda=lots");
        });
        yield return new("set without value", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--set", "lambda"), "--set lambda");
        });
        yield return new("NaN weights", d =>
        {
            var (b, t) = Random(d);
            var values = TestModels.Mixed.Select(s => new float[s.Count]).ToArray();
            values[^2][777] = float.NaN;
            TestModels.Write(t[1], TestModels.Mixed, values);
            return (Merge(b, t, Path.Combine(d, "o.safetensors")), "task1.safetensors: tensor 'e.big' holds NaN at element 777");
        });
        yield return new("private matches nothing", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "out"), "--private", "^head"), "--private '^head' matches no tensor");
        });
        yield return new("private matches everything", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "out"), "--private", "[a-z]"), "matches every float tensor");
        });
        yield return new("out equal to an input", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, b), "base.safetensors");
        });
        yield return new("zero threads", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--threads", "0"), "--threads");
        });
        yield return new("report in a missing folder", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--report", Path.Combine(d, "nope", "r.json")), "--report");
        });
        yield return new("onnx output for safetensors inputs", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.onnx")), "--out");
        });
        yield return new("device not cpu or cuda", d =>
        {
            var (b, t) = Random(d);
            return (Merge(b, t, Path.Combine(d, "o.safetensors"), "--device", "tpu"), "tpu");
        });
        yield return new("config and flags", d =>
        {
            File.WriteAllText(Path.Combine(d, "m.yaml"), "merge_method: task_arithmetic\nbase_model: b.safetensors\nmodels: [a.safetensors]\nout: o.safetensors\n");
            return (["merge", "--config", Path.Combine(d, "m.yaml"), "--method", "ties"], "--method");
        });
        yield return new("per-model parameter the method does not have", d =>
        {
            var (b, t) = Random(d);
            File.WriteAllText(Path.Combine(d, "m.yaml"), $"merge_method: task_arithmetic\nbase_model: {b}\nmodels:\n  - model: {t[0]}\n    parameters: {{density: 0.5}}\nout: o.safetensors\n");
            return (["merge", "--config", Path.Combine(d, "m.yaml")], "per-model parameter 'density'");
        });
        yield return new("unknown config key", d =>
        {
            File.WriteAllText(Path.Combine(d, "m.yaml"), "merge_method: task_arithmetic\nbase_model: b.safetensors\nmodels: [a.safetensors]\nout: o.safetensors\nslices: []\n");
            return (["merge", "--config", Path.Combine(d, "m.yaml")], "unknown key 'slices'");
        });
    }

    [TestCaseSource(nameof(Cases))]
    public void ExitsTwoWithOneLineAndLeavesNothing(Case c)
    {
        using var dir = Fixtures.NewTempDir();
        var (args, culprit) = c.Setup(dir.Path);
        var before = TestModels.FilesIn(dir.Path);
        var (exit, stdout, stderr) = CliHarness.Run(args);
        Assert.That(exit, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("amalgam: ").And.Contain(culprit));
        Assert.That(stdout, Is.Empty);
        Assert.That(TestModels.FilesIn(dir.Path), Is.EqualTo(before), "no output, no temp file");
    }
}
