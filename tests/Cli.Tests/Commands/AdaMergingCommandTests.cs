using System.Text.Json;
using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>`amalgam merge --method adamerging` on the K = 3 tiny CLIP-style tasks: a run with its report, and every bad input (exit 2, one line).</summary>
public class AdaMergingCommandTests
{
    private static string Dir => Fixtures.File("adamerging");
    private static string Base => Path.Combine(Dir, "base.onnx");
    private static string[] Tasks => [.. Enumerable.Range(1, 3).Select(k => Path.Combine(Dir, $"task_{k}.onnx"))];
    private static string[] Data => [.. Enumerable.Range(1, 3).Select(k => Path.Combine(Dir, $"data_{k}.npy"))];

    private static string[] Args(string @out, string[]? models = null, string[]? data = null, string? @base = null, string? priv = @"^head\.", params string[] extra) =>
    [
        "merge", "--method", "adamerging", "--base", @base ?? Base,
        .. (models ?? Tasks).SelectMany(m => new[] { "--model", m }),
        .. (data ?? Data).SelectMany(d => new[] { "--data", d }),
        .. priv is null ? Array.Empty<string>() : ["--private", priv],
        "--out", @out, .. extra,
    ];

    [Test]
    public void MergesAndReportsLambdasAndLossAtTheTopLevel()
    {
        using var dir = Fixtures.NewTempDir();
        var (exit, stdout, stderr) = CliHarness.Run(Args(dir.File("merged"), extra: ["--set", "steps=3", "--set", "batch_size=8", "--report", dir.File("r.json")]));
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("with adamerging"));
        Assert.That(Directory.GetFiles(dir.File("merged"), "*.onnx"), Has.Length.EqualTo(3));
        using var report = JsonDocument.Parse(File.ReadAllText(dir.File("r.json")));
        var lambdas = report.RootElement.GetProperty("lambdas");
        Assert.That(lambdas.GetProperty("granularity").GetString(), Is.EqualTo("layer"));
        Assert.That(lambdas.GetProperty("tasks").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "task_1", "task_2", "task_3" }));
        int rows = lambdas.GetProperty("params").GetArrayLength();
        Assert.That(lambdas.GetProperty("values").GetArrayLength(), Is.EqualTo(rows));
        foreach (var row in lambdas.GetProperty("values").EnumerateArray())
            foreach (var v in row.EnumerateArray()) Assert.That(v.GetDouble(), Is.InRange(0.0, 1.0));
        Assert.That(report.RootElement.GetProperty("loss").GetArrayLength(), Is.EqualTo(3));
        Assert.That(report.RootElement.GetProperty("results").GetProperty("steps").GetInt32(), Is.EqualTo(3));
        Assert.That(File.Exists(dir.File("merged") + ".adamerging-state.json"), Is.False);

        // The tiny fixtures' random heads already favour one class on some tasks: the only warnings
        // printed are those collapse warnings, each also in the report, one per task at most.
        var results = report.RootElement.GetProperty("results");
        string[] reported = [.. results.GetProperty("warnings").EnumerateArray().Select(e => e.GetString()!)];
        string[] printed = [.. stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("warning"))];
        Assert.That(printed, Is.EqualTo(reported.Select(w => "amalgam: warning: " + w).ToArray()));
        Assert.That(reported.Select(w => w.Split('\'')[1]), Is.Unique);
        Assert.That(results.GetProperty("objective").GetString(), Is.EqualTo("entropy"));
        Assert.That(results.GetProperty("diagnostics").GetArrayLength(), Is.GreaterThanOrEqualTo(2), "step 0 and the end");
    }

    public sealed record Case(string Name, Func<string, (string[] Args, string Culprit)> Setup)
    {
        public override string ToString() => Name;
    }

    private static string Npy(string dir, string name, long samples, long side)
    {
        using var t = Tensor.Allocate("x", DType.F32, [samples, 3, side, side]);
        string path = Path.Combine(dir, name);
        NpyFile.Write(path, t);
        return path;
    }

    public static IEnumerable<Case> Cases()
    {
        yield return new("data shape does not fit the input", d =>
            (Args(Path.Combine(d, "o"), data: [Data[0], Npy(d, "small.npy", 32, 20), Data[2]]), "small.npy"));
        yield return new("fewer samples than batch_size", d =>
            (Args(Path.Combine(d, "o"), data: [Data[0], Npy(d, "few.npy", 4, 28), Data[2]], extra: ["--set", "batch_size=8"]), "few.npy: 4 samples, fewer than batch_size=8"));
        yield return new("private regex matches nothing", d => (Args(Path.Combine(d, "o"), priv: "^nothing"), "--private '^nothing' matches no tensor"));
        yield return new("private regex matches everything", d => (Args(Path.Combine(d, "o"), priv: "."), "matches every float tensor"));
        yield return new("safetensors checkpoints", d =>
        {
            var (b, t) = TestModels.WriteRandomSafetensors(d, TestModels.Mixed, 3, seed: 3);
            return (Args(Path.Combine(d, "o.safetensors"), models: t, @base: b, priv: null), "needs ONNX models");
        });
        yield return new("wrong number of --data", d => (Args(Path.Combine(d, "o"), data: Data[..2]), "one data file per task model"));
        yield return new("missing data file", d => (Args(Path.Combine(d, "o"), data: [Data[0], Data[1], Path.Combine(d, "absent.npy")]), "absent.npy"));
    }

    [TestCaseSource(nameof(Cases))]
    public void BadInputExitsTwoWithOneLine(Case c)
    {
        using var dir = Fixtures.NewTempDir();
        var (args, culprit) = c.Setup(dir.Path);
        var (exit, stdout, stderr) = CliHarness.Run(args);
        Assert.That(exit, Is.EqualTo(2), stderr);
        Assert.That(stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain(culprit));
        Assert.That(stdout, Is.Empty);
        Assert.That(Directory.GetFileSystemEntries(dir.Path).Where(p => Path.GetFileName(p).StartsWith('o')), Is.Empty, "nothing written");
    }
}
