namespace Amalgam.Cli.Tests.Commands;

/// <summary>`amalgam demo` refuses bad options with exit 2 and one line, before any zoo is built.</summary>
public class DemoCommandTests
{
    [TestCase("--threads", "0", "--threads 0: must be at least 1")]
    [TestCase("--methods", "ties,nope", "--methods: unknown method 'nope'")]
    [TestCase("--tasks", "mnist,nope", "unknown task 'nope'")]
    [TestCase("--tasks", "mnist,mnist", "a task is listed twice")]
    [TestCase("--steps", "0", "--steps 0: must be at least 1")]
    [TestCase("--budget", "-1", "--budget -1: must be a positive number")]
    [TestCase("--size", "huge", "huge")]
    public void BadOptionIsExitTwoWithOneLine(string option, string value, string message)
    {
        var (exit, stdout, stderr) = CliHarness.Run("demo", "--out", Path.Combine(Path.GetTempPath(), "amalgam-demo-never"), option, value);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("amalgam: ").And.Contain(message));
    }
}
