using Amalgam.Cli.Commands;
using Amalgam.Engine.Demo;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Zoo;

namespace Amalgam.Cli.Tests.Commands;

public class DemoProgressViewTests
{
    [Test]
    public void StagesNameTheirRowAndShowDetailOnce()
    {
        var merge = DemoProgressView.MergeSnapshot("TIES-Merging", new MergeProgress("merge", 5, 10, 500, 1000, TimeSpan.FromSeconds(3)) { Detail = "k 0.2" });
        Assert.That(merge.Text, Does.StartWith("merge TIES-Merging: merge: 5/10 tensors"));
        Assert.That(merge.Text.Split("k 0.2").Length - 1, Is.EqualTo(1));
        Assert.That(merge.Fraction, Is.EqualTo(0.5));

        var zoo = DemoProgressView.ZooSnapshot(new ZooProgress("finetune mnist", 30, 120, 0.25, TimeSpan.FromSeconds(9)));
        Assert.That(zoo.Text, Is.EqualTo("zoo finetune mnist: 30/120 steps, loss 0.2500"));
        Assert.That(zoo.Fraction, Is.EqualTo(0.25));

        var eval = DemoProgressView.EvaluationSnapshot(new EvaluationProgress("RegMean", 3, 8, TimeSpan.FromSeconds(4)));
        Assert.That(eval.Text, Is.EqualTo("evaluate RegMean: 3/8 tasks"));
        Assert.That(eval.Silent, Is.False);
        Assert.That(DemoProgressView.EvaluationSnapshot(new EvaluationProgress("RegMean", 8, 8, TimeSpan.FromSeconds(4))).Silent, Is.True);
    }

    [Test]
    public void PlainLinesNameTheStage()
    {
        var text = new StringWriter();
        var view = new ProgressView.PlainLines<EvaluationProgress>(text, DemoProgressView.EvaluationSnapshot);
        view.Report(new EvaluationProgress("PCB-Merging", 1, 8, TimeSpan.FromSeconds(1)));   // quiet: under 2 s
        view.Report(new EvaluationProgress("PCB-Merging", 4, 8, TimeSpan.FromSeconds(2.5)));
        Assert.That(text.ToString(), Does.StartWith("amalgam: 50% evaluate PCB-Merging: 4/8 tasks, ETA"));
        Assert.That(text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1));
    }
}
