using Amalgam.Cli.Commands;
using Amalgam.Engine.Merging;

namespace Amalgam.Cli.Tests.Commands;

public class MergeProgressViewTests
{
    [Test]
    public void PlainLinesAreQuietForTwoSecondsThenEveryTenPercentOrTwoSeconds()
    {
        var text = new StringWriter();
        var view = MergeProgressView.PlainLines(text);
        const long total = 1000;
        void At(double seconds, long bytes) => view.Report(new MergeProgress("merge", (int)(bytes / 10), 100, bytes, total, TimeSpan.FromSeconds(seconds)));
        At(0.5, 100);   // quiet: under 2 s
        At(1.9, 500);   // quiet
        At(2.1, 510);   // first line
        At(2.2, 550);   // quiet: < 2 s and < 10 % since
        At(2.3, 620);   // 10 % more
        At(4.4, 640);   // 2 s later
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3));
        Assert.That(lines[0], Does.StartWith("amalgam: 51% merge: 51/100 tensors"));
        Assert.That(lines[0], Does.Contain("GB/s").And.Contain("ETA 00:00:02"));
        Assert.That(lines[1], Does.StartWith("amalgam: 62%"));
        Assert.That(lines[2], Does.StartWith("amalgam: 64%"));
    }

    [Test]
    public void TrainingStepsShowStepsPerSecondAndTheLoss()
    {
        var p = new MergeProgress("step", 30, 500, 0, 0, TimeSpan.FromSeconds(12)) { Detail = "loss 0.4213" };
        Assert.That(MergeProgressView.Describe(p), Is.EqualTo("step 30/500, 2.50 steps/s, loss 0.4213"));
        Assert.That(p.Fraction, Is.EqualTo(30.0 / 500));
    }
}
