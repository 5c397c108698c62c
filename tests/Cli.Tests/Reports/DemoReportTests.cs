using System.Globalization;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using Amalgam.Engine.Demo;
using Amalgam.Cli.Reports;

namespace Amalgam.Cli.Tests.Reports;

/// <summary>The report writers on a hand-built two-task result (numbers worked out by hand below).</summary>
public class DemoReportTests
{
    // Accuracies per task (mnist, fashion):
    //   Pretrained 0.40 0.30 -> avg 35.0 %, norm (0.40/0.80 + 0.30/0.60)/2 = 0.5   -> 50.0 %
    //   Individual 0.80 0.60 -> avg 70.0 %, norm 1                                   -> 100.0 %
    //   TIES       0.72 0.45 -> avg 58.5 %, norm (0.72/0.80 + 0.45/0.60)/2 = 0.825 -> 82.5 %
    //   RegMean    failed
    internal static DemoResults TwoTasks(string failure = "bad | input") => new()
    {
        Setup = new DemoSetup
        {
            Size = "tiny", Parameters = 12345, Seed = 7, Budget = 0.5, TestSamples = [1000, 1000],
            Cores = 2, Threads = 2, Cpu = "Test CPU", Os = "Linux", Runtime = ".NET 10.0", StartedUtc = "2026-11-22 03:00 UTC",
        },
        Tasks = ["mnist", "fashion"],
        Rows =
        [
            new DemoRow { Id = "pretrained", Name = "Pretrained (probe heads)", Kind = RowKind.Pretrained, Accuracies = [0.40, 0.30], EvalSeconds = 0.5 },
            new DemoRow { Id = "individual", Name = "Individual (fine-tuned)", Kind = RowKind.Individual, Accuracies = [0.80, 0.60], EvalSeconds = 0.75 },
            new DemoRow
            {
                Id = "ties", Name = "TIES-Merging", Kind = RowKind.Merged, Method = "ties", Accuracies = [0.72, 0.45], MergeSeconds = 1.234, EvalSeconds = 0.5,
                Settings = new Dictionary<string, string> { ["k"] = "0.2" },
            },
            new DemoRow { Id = "regmean", Name = "RegMean", Kind = RowKind.Merged, Method = "regmean", Failure = failure },
        ],
        Timings = new DemoTimings { Zoo = 10.5, Baselines = 1.25, Merges = 1.234, Evaluations = 0.5, Total = 13.75 },
        Notes = ["Every method runs at its default parameters."],
    };

    [Test]
    public void NormalisedAccuracyIsTheMeanRatioToFineTuned()
    {
        var r = TwoTasks();
        Assert.That(ResultsTable.Normalized(r.Rows[2], r.Rows[1]), Is.EqualTo(0.825).Within(1e-12));
        Assert.That(ResultsTable.Normalized(r.Rows[0], r.Rows[1]), Is.EqualTo(0.5).Within(1e-12));
        Assert.That(ResultsTable.Average(r.Rows[2]), Is.EqualTo(0.585).Within(1e-12));
        Assert.That(ResultsTable.Normalized(r.Rows[3], r.Rows[1]), Is.Null);
        Assert.That(ResultsTable.Average(r.Rows[3]), Is.Null);
    }

    [Test]
    public void MarkdownIsTheExpectedTable()
    {
        const string expected = """
            # Amalgam demo: merging 2 TinyTasks models

            Zoo: size tiny, 12,345 merged parameters (the tower; each task adds its own head), 2 tasks, seed 7, budget 0.5.

            Machine: 2 cores (2 threads used), Test CPU, Linux, .NET 10.0; run started 2026-11-22 03:00 UTC.

            Timing: zoo 10.50 s, reference rows 1.25 s, merges 1.23 s, evaluation of merged models 0.50 s, total 13.75 s.

            | Method | --method | mnist | fashion | Avg | Norm | Merge s |
            | --- | --- | ---: | ---: | ---: | ---: | ---: |
            | Pretrained (probe heads) | — | 40.0 | 30.0 | 35.0 | 50.0 | — |
            | Individual (fine-tuned) | — | 80.0 | 60.0 | 70.0 | 100.0 | — |
            | TIES-Merging | ties k=0.2 | 72.0 | 45.0 | 58.5 | 82.5 | 1.23 |
            | RegMean | regmean | failed | failed | failed | failed | — |

            Accuracy (%) of each task's model on its labelled test split (1,000 images each). Pretrained = the pretrained tower with each task's linear-probe head; Individual = each task's fine-tuned model; merged rows evaluate, for every task, the merged tower with that task's head; --method = the merge method and the settings the demo passed (the rest at their defaults). Avg = mean over tasks; Norm = mean over tasks of (accuracy / that task's Individual accuracy), in %; Merge s = wall seconds of the merge (data stage included).

            Notes:

            - Every method runs at its default parameters.

            Failed:

            - RegMean: bad | input

            """;
        Assert.That(MarkdownReport.Render(TwoTasks()), Is.EqualTo(expected.ReplaceLineEndings("\n")));
    }

    [Test]
    public void PipesInTableCellsAreEscaped()
    {
        var r = TwoTasks();
        r = r with { Rows = [.. r.Rows.Take(3), r.Rows[3] with { Name = "Reg|Mean" }] };
        Assert.That(MarkdownReport.Render(r), Does.Contain("| Reg\\|Mean | regmean | failed |"));
    }

    [Test]
    public void JsonHasEveryNumberUnrounded()
    {
        string norm = ((0.72 / 0.80 + 0.45 / 0.60) / 2).ToString("R", CultureInfo.InvariantCulture);
        string avg = ((0.72 + 0.45) / 2).ToString("R", CultureInfo.InvariantCulture);
        string pretrainedNorm = ((0.40 / 0.80 + 0.30 / 0.60) / 2).ToString("R", CultureInfo.InvariantCulture);
        string pretrainedAvg = ((0.40 + 0.30) / 2).ToString("R", CultureInfo.InvariantCulture);
        string expected = """
            {
              "zoo": {
                "suite": "vision",
                "size": "tiny",
                "parameters": 12345,
                "seed": 7,
                "budget": 0.5,
                "tasks": [
                  "mnist",
                  "fashion"
                ],
                "test_samples": [
                  1000,
                  1000
                ]
              },
              "machine": {
                "cores": 2,
                "threads": 2,
                "cpu": "Test CPU",
                "os": "Linux",
                "runtime": ".NET 10.0",
                "started_utc": "2026-11-22 03:00 UTC"
              },
              "seconds": {
                "zoo": 10.5,
                "baselines": 1.25,
                "merges": 1.234,
                "evaluations": 0.5,
                "total": 13.75
              },
              "rows": [
                {
                  "id": "pretrained",
                  "name": "Pretrained (probe heads)",
                  "kind": "pretrained",
                  "settings": {},
                  "accuracy": {
                    "mnist": 0.4,
                    "fashion": 0.3
                  },
                  "average": PAVG,
                  "normalized": PNORM,
                  "merge_seconds": null,
                  "eval_seconds": 0.5
                },
                {
                  "id": "individual",
                  "name": "Individual (fine-tuned)",
                  "kind": "individual",
                  "settings": {},
                  "accuracy": {
                    "mnist": 0.8,
                    "fashion": 0.6
                  },
                  "average": 0.7,
                  "normalized": 1,
                  "merge_seconds": null,
                  "eval_seconds": 0.75
                },
                {
                  "id": "ties",
                  "name": "TIES-Merging",
                  "kind": "merged",
                  "method": "ties",
                  "settings": {
                    "k": "0.2"
                  },
                  "accuracy": {
                    "mnist": 0.72,
                    "fashion": 0.45
                  },
                  "average": AVG,
                  "normalized": NORM,
                  "merge_seconds": 1.234,
                  "eval_seconds": 0.5
                },
                {
                  "id": "regmean",
                  "name": "RegMean",
                  "kind": "merged",
                  "method": "regmean",
                  "settings": {},
                  "merge_seconds": null,
                  "eval_seconds": 0,
                  "failed": "bad | input"
                }
              ],
              "notes": [
                "Every method runs at its default parameters."
              ]
            }

            """;
        expected = expected.Replace("PAVG", pretrainedAvg).Replace("PNORM", pretrainedNorm).Replace("AVG", avg).Replace("NORM", norm);
        string json = ResultsJson.Render(TwoTasks());
        Assert.That(json, Is.EqualTo(expected.ReplaceLineEndings("\n")));
        using var doc = JsonDocument.Parse(json);
        Assert.That(doc.RootElement.GetProperty("rows")[2].GetProperty("normalized").GetDouble(), Is.EqualTo(0.825).Within(1e-12));
    }

    [Test]
    public void HtmlIsWellFormedSelfContainedWithOneBarPerRowPerTask()
    {
        var results = TwoTasks(failure: "<boom> & 'quotes' \"too\"");
        string html = HtmlReport.Render(results);
        var doc = Parse(html);

        var bars = doc.Descendants("rect").Where(e => (string?)e.Attribute("class") == "bar").ToList();
        string[] drawn = ["pretrained", "individual", "ties"];  // RegMean failed: no bar
        foreach (string task in results.Tasks)
        {
            var rows = bars.Where(b => (string?)b.Attribute("data-task") == task).Select(b => (string)b.Attribute("data-row")!).ToArray();
            Assert.That(rows, Is.EqualTo(drawn), task);
        }
        // Bar lengths are proportional to accuracy: TIES / Individual on mnist = 0.72 / 0.80.
        double Width(string task, string row) => double.Parse((string)bars.Single(b =>
            (string?)b.Attribute("data-task") == task && (string?)b.Attribute("data-row") == row).Attribute("width")!, CultureInfo.InvariantCulture);
        Assert.That(Width("mnist", "ties") / Width("mnist", "individual"), Is.EqualTo(0.72 / 0.80).Within(0.002));
        Assert.That(Width("fashion", "pretrained") / Width("fashion", "individual"), Is.EqualTo(0.30 / 0.60).Within(0.002));

        // The table: a header plus one row per result row, with the same cells as the markdown.
        var tableRows = doc.Descendants("table").Single().Descendants("tr").ToList();
        Assert.That(tableRows, Has.Count.EqualTo(1 + results.Rows.Count));
        Assert.That(tableRows[3].Elements("td").Select(td => td.Value), Is.EqualTo(new[] { "TIES-Merging", "ties k=0.2", "72.0", "45.0", "58.5", "82.5", "1.23" }));

        // Self-contained: nothing to fetch, nothing to run; the failure text survives escaping.
        Assert.That(doc.Descendants().Attributes().Where(a => a.Name.LocalName is "src" or "href"), Is.Empty);
        Assert.That(html, Does.Not.Contain("http"));
        Assert.That(doc.Descendants("script"), Is.Empty);
        Assert.That(doc.Descendants("li").Select(li => li.Value), Does.Contain("RegMean: <boom> & 'quotes' \"too\""));
    }

    [Test]
    public void AMergesWarningsAppearUnderItsRowNameInEveryReport()
    {
        var r = TwoTasks();
        const string warning = "adamerging: task 'mnist' collapses onto one class at step 50: 61.0% <of> & more";
        r = r with { Rows = [.. r.Rows.Select(row => row.Id == "ties" ? row with { Warnings = [warning] } : row)] };
        Assert.That(ResultsTable.Warnings(r), Is.EqualTo(new[] { "TIES-Merging: " + warning }));
        Assert.That(MarkdownReport.Render(r), Does.Contain("\nWarnings:\n\n- TIES-Merging: " + warning + "\n"));
        Assert.That(Parse(HtmlReport.Render(r)).Descendants("li").Select(li => li.Value), Does.Contain("TIES-Merging: " + warning));
        using var doc = JsonDocument.Parse(ResultsJson.Render(r));
        Assert.That(doc.RootElement.GetProperty("rows")[2].GetProperty("warnings")[0].GetString(), Is.EqualTo(warning));
        Assert.That(doc.RootElement.GetProperty("rows")[1].TryGetProperty("warnings", out _), Is.False, "rows without warnings have no key");
    }

    private static XDocument Parse(string html)
    {
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore });
        return XDocument.Load(reader);
    }
}
