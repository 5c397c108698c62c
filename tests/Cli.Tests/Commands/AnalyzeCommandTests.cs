using System.Text.Json;
using System.Xml.Linq;
using Amalgam.Engine.Analysis;
using Amalgam.Engine.Tests.Support;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>`amalgam analyze`: the text tables, --json (the engine's numbers, NaN as null), --html (well-formed, self-contained), and bad input (exit 2, one line, nothing written).</summary>
public class AnalyzeCommandTests
{
    private static string Dir => Fixtures.File("adamerging");
    private static string[] Models => [.. Enumerable.Range(1, 3).SelectMany(k => new[] { "--model", Path.Combine(Dir, $"task_{k}.onnx") })];
    private static string[] Args(params string[] extra) => ["analyze", "--base", Path.Combine(Dir, "base.onnx"), .. Models, "--private", @"^head\.", .. extra];

    [Test]
    public void TextShowsOverallMatricesAndOneRowPerSharedTensor()
    {
        var (exit, stdout, stderr) = CliHarness.Run(Args());
        Assert.That(exit, Is.EqualTo(0), stderr);
        var a = TaskVectorAnalysis.Run(new AnalysisRequest { Base = Path.Combine(Dir, "base.onnx"), Models = [.. Enumerable.Range(1, 3).Select(k => Path.Combine(Dir, $"task_{k}.onnx"))], Private = @"^head\." });
        Assert.That(stdout, Does.Contain("cosine similarity").And.Contain("sign conflicts").And.Contain("per shared tensor"));
        Assert.That(stdout, Does.Contain($"{a.Layers.Count} shared tensors").And.Contain("2 private tensors left out"));
        string[] lines = stdout.Split('\n');
        foreach (var layer in a.Layers)
        {
            string row = lines.Single(l => l.StartsWith(layer.Name + " ", StringComparison.Ordinal));
            Assert.That(row, Does.Contain(layer.RelativeNorm(0).ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
        }
        Assert.That(lines.Any(l => l.StartsWith("head.", StringComparison.Ordinal)), Is.False, "private tensors get no row");
    }

    [Test]
    public void JsonCarriesTheEngineNumbersAndHtmlIsWellFormedAndSelfContained()
    {
        using var dir = Fixtures.NewTempDir();
        var (exit, stdout, stderr) = CliHarness.Run(Args("--json", "--html", dir.File("a.html"), "--threads", "1"));
        Assert.That(exit, Is.EqualTo(0), stderr);
        using var json = JsonDocument.Parse(stdout);
        var overall = json.RootElement.GetProperty("overall");
        var cosine = overall.GetProperty("cosine");
        Assert.That(cosine.GetArrayLength(), Is.EqualTo(3));
        for (int i = 0; i < 3; i++)
        {
            Assert.That(cosine[i][i].GetDouble(), Is.EqualTo(1).Within(1e-12));
            for (int j = 0; j < 3; j++) Assert.That(cosine[i][j].GetDouble(), Is.EqualTo(cosine[j][i].GetDouble()));
        }
        Assert.That(json.RootElement.GetProperty("skipped_private").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "head.bias", "head.weight" }));
        int layers = json.RootElement.GetProperty("layers").GetArrayLength();

        var html = XDocument.Parse(File.ReadAllText(dir.File("a.html")));
        XNamespace svg = "http://www.w3.org/2000/svg";
        var maps = html.Descendants(svg + "svg").ToArray();
        Assert.That(maps, Has.Length.EqualTo(4), "cosine, sign conflicts, relative norms, per-pair cosine");
        Assert.That(maps[2].Elements(svg + "rect").Count(), Is.EqualTo(layers * 3), "one cell per tensor and task");
        Assert.That(File.ReadAllText(dir.File("a.html")), Does.Not.Contain("src=").And.Not.Contain("href=").And.Not.Contain("<script"));
        Assert.That(TestModels.FilesIn(dir.Path), Is.EqualTo(new[] { "a.html" }), "no temp file left");
    }

    [Test]
    public void UndefinedValuesAreNullInJson()
    {
        using var dir = Fixtures.NewTempDir();
        string b = Path.Combine(Dir, "base.onnx");
        var (exit, stdout, stderr) = CliHarness.Run("analyze", "--base", b, "--model", b, "--model", Path.Combine(Dir, "task_1.onnx"), "--private", @"^head\.", "--json");
        Assert.That(exit, Is.EqualTo(0), stderr);
        using var json = JsonDocument.Parse(stdout);
        var overall = json.RootElement.GetProperty("overall");
        Assert.That(overall.GetProperty("task_vector_norm")[0].GetDouble(), Is.Zero, "the base against itself");
        Assert.That(overall.GetProperty("cosine")[0][1].ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(overall.GetProperty("sign_conflict")[0][1].ValueKind, Is.EqualTo(JsonValueKind.Null));
    }

    public static IEnumerable<TestCaseData> BadInputs()
    {
        yield return new TestCaseData((object)new[] { "--threads", "0" }, "--threads").SetName("threads zero");
        yield return new TestCaseData((object)new[] { "--html", "/nonexistent-folder/a.html" }, "--html").SetName("html folder missing");
        yield return new TestCaseData((object)new[] { "--private", "(" }, "--private").SetName("bad regex");
    }

    [TestCaseSource(nameof(BadInputs))]
    public void BadOptionsExit2WithOneLine(string[] extra, string culprit)
    {
        var (exit, stdout, stderr) = CliHarness.Run(Args(extra));
        Assert.That(exit, Is.EqualTo(2), stderr);
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain(culprit));
        Assert.That(stdout, Is.Empty);
    }

    [Test]
    public void MissingOrMismatchedModelsExit2NamingTheFileOrTensor()
    {
        var (exit, _, stderr) = CliHarness.Run("analyze", "--base", "/no/such/base.onnx", "--model", Path.Combine(Dir, "task_1.onnx"));
        Assert.That((exit, stderr.TrimEnd().Split('\n').Length), Is.EqualTo((2, 1)), stderr);
        Assert.That(stderr, Does.Contain("/no/such/base.onnx"));

        // The fixtures' heads differ from the base's only in values, so use a model of another architecture.
        using var dir = Fixtures.NewTempDir();
        new HeadedMlp(4, HeadedMlp.RandomShared(new Random(1)), HeadedMlp.Random(new Random(2), 4 * HeadedMlp.Hidden, 1), HeadedMlp.Random(new Random(3), 4, 1)).Save(dir.File("other.onnx"));
        (exit, _, stderr) = CliHarness.Run("analyze", "--base", Path.Combine(Dir, "base.onnx"), "--model", dir.File("other.onnx"));
        Assert.That((exit, stderr.TrimEnd().Split('\n').Length), Is.EqualTo((2, 1)), stderr);
        Assert.That(stderr, Does.Contain("other.onnx"));
    }
}
