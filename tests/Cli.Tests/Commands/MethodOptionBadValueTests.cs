using Amalgam.Engine.Tests.Support;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>Out-of-range or unknown values of the methods' options: exit 2, one line naming the option, no output.</summary>
public class MethodOptionBadValueTests
{
    [TestCase("ties", "k=0", "k=0")]
    [TestCase("ties", "k=1.5", "k=1.5")]
    [TestCase("ties", "k=-0.2", "k=-0.2")]
    [TestCase("dare_ties", "k=0", "k=0")]
    [TestCase("dare_linear", "p=1", "p=1")]
    [TestCase("dare_linear", "p=-0.1", "p=-0.1")]
    [TestCase("dare_ties", "p=1.5", "p=1.5")]
    [TestCase("ties", "compat=torch", "compat=torch")]
    [TestCase("dare_ties", "compat=", "compat=")]
    [TestCase("ties", "scope=layer", "scope=layer")]
    [TestCase("ties", "zero_sign=minus", "zero_sign=minus")]
    [TestCase("ties", "merge=median", "merge=median")]
    [TestCase("dare_linear", "rescale=l2", "rescale=l2")]
    [TestCase("breadcrumbs", "gamma=1.5", "gamma=1.5")]
    [TestCase("breadcrumbs", "density=-1", "density=-1")]
    [TestCase("dare_linear", "k=0.5", "'k'")]
    public void BadValueExitsTwoWithOneLine(string method, string set, string culprit)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 60);
        var before = TestModels.FilesIn(dir.Path);
        var args = new[] { "merge", "--method", method, "--base", b }.Concat(tasks.SelectMany(t => new[] { "--model", t }))
            .Concat(["--out", dir.File("o.safetensors"), "--set", set]).ToArray();
        var (exit, stdout, stderr) = CliHarness.Run(args);
        Assert.That(exit, Is.EqualTo(2), stderr);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), stderr);
        Assert.That(lines[0], Does.StartWith("amalgam: ").And.Contain(method).And.Contain(culprit));
        Assert.That(stdout, Is.Empty);
        Assert.That(TestModels.FilesIn(dir.Path), Is.EqualTo(before), "no output, no temp file");
    }

    [TestCase("ties")]
    [TestCase("dare_linear")]
    [TestCase("dare_ties")]
    [TestCase("breadcrumbs")]
    public void EveryMethodRunsFromTheCli(string method)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 61);
        var args = new[] { "merge", "--method", method, "--base", b, "--seed", "3" }.Concat(tasks.SelectMany(t => new[] { "--model", t }))
            .Concat(["--out", dir.File("o.safetensors")]).ToArray();
        var (exit, _, stderr) = CliHarness.Run(args);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(File.Exists(dir.File("o.safetensors")), Is.True);
    }
}
