using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>`amalgam merge --method fisher` wiring: --data per task, --set samples, heads private; bad sample counts exit 2.</summary>
public sealed class FisherMergeCommandTests
{
    private static string Pixels(string path, int n)
    {
        using var t = Tensor.Allocate("pixel_values", DType.F32, [n, 3, 28, 28]);
        var w = t.Write<float>();
        for (int i = 0; i < w.Length; i++) w[i] = MathF.Sin(i * 0.11f + n);
        NpyFile.Write(path, t);
        return path;
    }

    [Test]
    public void MergesWithDataPerTask()
    {
        using var dir = Fixtures.NewTempDir();
        string baseOnnx = Fixtures.Onnx("clip_tiny_op17");
        var tasks = TestModels.PerturbedOnnxCopies(baseOnnx, dir.Path, 2, seed: 61);
        string x0 = Pixels(dir.File("x0.npy"), 3), x1 = Pixels(dir.File("x1.npy"), 4);
        string[] common = ["merge", "--method", "fisher", "--base", baseOnnx, "--model", tasks[0], "--model", tasks[1],
            "--data", x0, "--data", x1, "--private", @"^head\.", "--report", dir.File("r.json")];
        var (exit, stdout, err) = CliHarness.Run([.. common, "--set", "samples=3", "--out", dir.File("out")]);
        Assert.That((exit, err), Is.EqualTo((0, "")), "no warning that --data is ignored");
        Assert.That(stdout, Does.Contain("with fisher"));
        Assert.That(File.Exists(dir.File("out/task0.onnx")) && File.Exists(dir.File("out/task1.onnx")), Is.True);
        Assert.That(File.ReadAllText(dir.File("r.json")), Does.Contain("\"samples\": 3"));

        var (bad, _, badErr) = CliHarness.Run([.. common, "--set", "samples=4", "--out", dir.File("out2")]);
        Assert.That(bad, Is.EqualTo(2));
        Assert.That(badErr, Does.Contain("x0.npy").And.Contain("samples=4"));
        Assert.That(Directory.Exists(dir.File("out2")), Is.False);
    }
}
