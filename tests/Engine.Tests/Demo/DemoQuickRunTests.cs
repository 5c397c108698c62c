using Amalgam.Engine.Demo;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;

namespace Amalgam.Engine.Tests.Demo;

/// <summary>
/// The reduced demo (--quick: tiny tower, two tasks, small budget, few AdaMerging steps) end to end
/// on the real zoo (built into the amalgam cache on first use, then loaded), as CI runs it.
/// </summary>
public class DemoQuickRunTests
{
    [Test]
    [CancelAfter(300_000)]
    public void QuickDemoFineTunesBeatTheProbeAndEveryMethodGivesAccuracies()
    {
        using var dir = Fixtures.NewTempDir();
        var results = DemoRunner.Run(new DemoOptions { Quick = true, Out = dir.Path, Threads = 2 });

        Assert.That(results.Tasks, Is.EqualTo(DemoOptions.QuickTasks));
        var pretrained = results.Rows.Single(r => r.Kind == RowKind.Pretrained);
        var individual = results.Rows.Single(r => r.Kind == RowKind.Individual);
        for (int t = 0; t < results.Tasks.Count; t++)
            Assert.That(individual.Accuracies![t], Is.GreaterThan(pretrained.Accuracies![t]), $"fine-tuned vs linear probe on {results.Tasks[t]}");

        var merged = results.Rows.Where(r => r.Kind == RowKind.Merged).ToList();
        int expectedRows = MethodRegistry.All.Sum(s => s.Name == DemoPlan.AdaMerging ? 6 : 1);
        Assert.That(merged, Has.Count.EqualTo(expectedRows));
        foreach (var row in results.Rows)
        {
            Assert.That(row.Failure, Is.Null, row.Name);
            Assert.That(row.Accuracies, Has.Count.EqualTo(results.Tasks.Count), row.Name);
            Assert.That(row.Accuracies, Is.All.InRange(0.0, 1.0), row.Name);
        }
        Assert.That(File.ReadAllText(Path.Combine(dir.Path, DemoRunner.ResultsJsonFile)), Does.Contain("\"Individual (fine-tuned)\""));
    }
}
