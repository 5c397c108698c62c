using Amalgam.Cli.Commands;
using Amalgam.Engine.Training;

namespace Amalgam.Cli.Tests.Commands;

public class GradProgressViewTests
{
    [Test]
    public void PlainLinesAreQuietForTwoSecondsThenEveryTenPercentOrTwoSeconds()
    {
        var text = new StringWriter();
        var view = GradProgressView.PlainLines(text);
        void At(double seconds, long samples) => view.Report(new GradProgress(samples, 1000, TimeSpan.FromSeconds(seconds)));
        At(0.5, 100);   // quiet: under 2 s
        At(1.9, 500);   // quiet
        At(2.0, 500);   // first line
        At(2.2, 550);   // quiet: < 2 s and < 10 % since
        At(2.3, 620);   // 12 % more
        At(4.4, 640);   // 2 s later
        At(9.0, 1000);  // done: the command prints its result instead
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(3), text.ToString());
        Assert.That(lines[0], Does.StartWith("amalgam: 50% grad: 500/1000 samples, 250.0 samples/s").And.EndWith("ETA 00:00:02"));
        Assert.That(lines[1], Does.StartWith("amalgam: 62%"));
        Assert.That(lines[2], Does.StartWith("amalgam: 64%"));
    }
}
