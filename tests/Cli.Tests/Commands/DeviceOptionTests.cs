using Amalgam.Engine.Tests.Support;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>
/// `--device` on merge, grad, eval and demo: on a build without ONNX Runtime's CUDA provider,
/// `cuda[:N]` is refused before anything is read or written (one line saying what is missing and how
/// to get it, exit 2); a malformed value is one line naming the option; `cpu` runs as before.
/// </summary>
public sealed class DeviceOptionTests
{
    private static string Dir => Fixtures.File("adamerging");
    private static string Base => Path.Combine(Dir, "base.onnx");
    private static string[] Tasks => [.. Enumerable.Range(1, 3).Select(k => Path.Combine(Dir, $"task_{k}.onnx"))];
    private static string[] Data => [.. Enumerable.Range(1, 3).Select(k => Path.Combine(Dir, $"data_{k}.npy"))];

    private static (string[] Args, string Output) Command(string name, Fixtures.TempDir dir)
    {
        string model = Tasks[0], data = Data[0];
        switch (name)
        {
            case "merge":
                string merged = dir.File("merged");
                return ([
                    "merge", "--method", "regmean", "--base", Base,
                    .. Tasks.SelectMany(t => new[] { "--model", t }),
                    .. Data.SelectMany(d => new[] { "--data", d }),
                    "--private", @"^head\.", "--out", merged], merged);
            case "grad":
                string g = dir.File("g.safetensors");
                return (["grad", "--model", model, "--data", data, "--loss", "entropy", "--out", g], g);
            case "eval":
                TanhMlp.WriteLabels(dir.File("y.npy"), Enumerable.Range(0, 32).Select(i => (long)(i % 2)).ToArray());
                return (["eval", "--model", model, "--data", data, "--labels", dir.File("y.npy")], dir.File("none"));
            case "demo":
                string results = dir.File("demo");
                return (["demo", "--quick", "--out", results], results);
            default: throw new ArgumentException(name);
        }
    }

    [TestCase("merge")]
    [TestCase("grad")]
    [TestCase("eval")]
    [TestCase("demo")]
    public void CudaWithoutACudaProviderIsOneLineExitTwoAndNothingWritten(string command)
    {
        if (RuntimeEnvironment.HasCudaProvider) Assert.Ignore("GPU flavour: bench/gpu/check.sh covers --device cuda");
        using var dir = Fixtures.NewTempDir();
        var (args, output) = Command(command, dir);
        var (exit, stdout, err) = CliHarness.Run([.. args, "--device", "cuda:1"]);
        Assert.That(exit, Is.EqualTo(2), err);
        Assert.That(stdout, Is.Empty);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), err);
        Assert.That(lines[0], Does.StartWith("amalgam: ").And.Contain("--device cuda").And.Contain("no CUDA provider").And.Contain("--gpu"));
        Assert.That(File.Exists(output) || Directory.Exists(output), Is.False);
    }

    [TestCase("merge")]
    [TestCase("grad")]
    [TestCase("eval")]
    [TestCase("demo")]
    public void AMalformedDeviceIsOneLineNamingTheOption(string command)
    {
        using var dir = Fixtures.NewTempDir();
        var (args, output) = Command(command, dir);
        var (exit, _, err) = CliHarness.Run([.. args, "--device", "gpu0"]);
        Assert.That(exit, Is.EqualTo(2), err);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), err);
        Assert.That(lines[0], Does.Contain("--device gpu0: expected cpu, cuda or cuda:N"));
        Assert.That(File.Exists(output) || Directory.Exists(output), Is.False);
    }

    [TestCase("grad")]
    [TestCase("eval")]
    public void CpuIsTheDefaultAndCanBeNamed(string command)
    {
        using var dir = Fixtures.NewTempDir();
        var (args, _) = Command(command, dir);
        var (exit, stdout, err) = CliHarness.Run([.. args, "--device", "cpu"]);
        Assert.That(exit, Is.Zero, err);
        var (plainExit, plain, plainErr) = CliHarness.Run(args);
        Assert.That(plainExit, Is.Zero, plainErr);
        if (command == "eval") Assert.That(stdout, Is.EqualTo(plain));
    }
}
