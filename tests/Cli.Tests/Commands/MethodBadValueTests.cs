using Amalgam.Engine.Tests.Support;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>Bad values of average, pcb and consensus options: exit 2, one stderr line naming the option, nothing written.</summary>
public class MethodBadValueTests
{
    [TestCase("average", "weights=1,-1", "weights")]
    [TestCase("average", "weights=1,2,3", "weights")]
    [TestCase("pcb", "ratio=0", "ratio")]
    [TestCase("pcb", "ratio=1.5", "ratio")]
    [TestCase("pcb", "lambda=NaN", "lambda")]
    [TestCase("consensus", "min_agree=-1", "min_agree")]
    [TestCase("consensus", "min_agree=1.5", "min_agree")]
    [TestCase("consensus", "tall_lambda=-0.1", "tall_lambda")]
    public void ExitsTwoWithOneLine(string method, string set, string culprit)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 80);
        var before = TestModels.FilesIn(dir.Path);
        string[] args = ["merge", "--method", method, "--base", b, .. tasks.SelectMany(t => new[] { "--model", t }),
            "--out", dir.File("o.safetensors"), "--set", set];
        var (exit, stdout, stderr) = CliHarness.Run(args);
        Assert.That(exit, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("amalgam: ").And.Contain(culprit));
        Assert.That(stdout, Is.Empty);
        Assert.That(TestModels.FilesIn(dir.Path), Is.EqualTo(before), "no output, no temp file");
    }
}
