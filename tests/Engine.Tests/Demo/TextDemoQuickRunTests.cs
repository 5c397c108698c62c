using Amalgam.Engine.Demo;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Demo;

/// <summary>
/// The reduced text demo (--suite text --quick: two real text tasks on the real all-MiniLM-L6-v2,
/// a tenth of the zoo budget, few AdaMerging steps) end to end, as CI runs it: the zoo is built
/// into the amalgam cache on first use (probes on frozen features, then fine-tuning), then loaded.
/// </summary>
public class TextDemoQuickRunTests
{
    [Test]
    [CancelAfter(600_000)]
    public void QuickTextDemoRunsEveryMethodOnTheRealEncoderWithEachTasksOwnHead()
    {
        using var dir = Fixtures.NewTempDir();
        var options = new DemoOptions { Suite = DemoOptions.TextSuite, Quick = true, Out = dir.Path, Threads = 2, KeepModels = true };
        var results = DemoRunner.Run(options);

        Assert.That(results.Tasks, Is.EqualTo(DemoOptions.QuickTextTasks));
        var merged = results.Rows.Where(r => r.Kind == RowKind.Merged).ToList();
        Assert.That(merged, Has.Count.EqualTo(MethodRegistry.All.Sum(s => s.Name == DemoPlan.AdaMerging ? 6 : 1)));
        foreach (var row in results.Rows)
        {
            Assert.That(row.Failure, Is.Null, row.Name);
            Assert.That(row.Accuracies, Has.Count.EqualTo(results.Tasks.Count), row.Name);
            Assert.That(row.Accuracies, Is.All.InRange(0.0, 1.0), row.Name);
        }
        // The probe heads on frozen MiniLM features beat chance on both tasks (4 parts of speech, 9 languages).
        var pretrained = results.Rows.Single(r => r.Kind == RowKind.Pretrained);
        Assert.That(pretrained.Accuracies![0], Is.GreaterThan(0.4), "wn-pos probe");
        Assert.That(pretrained.Accuracies![1], Is.GreaterThan(0.3), "fortune-lang probe");
        // Every merged task model is the task's own classifier: its head has the task's class count.
        foreach (string task in results.Tasks)
        {
            var model = OnnxModel.Load(Path.Combine(dir.Path, "models", "task_arithmetic", task + ".onnx"));
            var head = model.GetInitializer("head.weight");
            Assert.That(head.Dims[0], Is.EqualTo(Amalgam.Engine.Data.Text.TextTasks.Build(task).ClassCount), task);
        }
        Assert.That(results.Notes, Has.Some.Contain("batch_size=8"), "the reduced AdaMerging settings are stated");
        Assert.That(File.ReadAllText(Path.Combine(dir.Path, DemoRunner.ResultsJsonFile)), Does.Contain("\"Individual (fine-tuned)\""));
    }
}
