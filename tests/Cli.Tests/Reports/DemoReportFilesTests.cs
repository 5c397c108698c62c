using Amalgam.Cli.Reports;

namespace Amalgam.Cli.Tests.Reports;

/// <summary>The CLI writes the demo's human-readable reports beside results.json: both renderers' text, renamed into place.</summary>
public sealed class DemoReportFilesTests
{
    [Test]
    public void BothReportsAreWrittenWholeAndNoTempFileIsLeft()
    {
        using var dir = Fixtures.NewTempDir();
        string folder = Path.Combine(dir.Path, "out");
        var results = DemoReportTests.TwoTasks();
        var written = DemoReportFiles.Write(folder, results);
        Assert.That(written.Select(Path.GetFileName), Is.EqualTo(new[] { DemoReportFiles.Markdown, DemoReportFiles.Html }));
        Assert.That(File.ReadAllText(Path.Combine(folder, DemoReportFiles.Markdown)), Is.EqualTo(MarkdownReport.Render(results)));
        Assert.That(File.ReadAllText(Path.Combine(folder, DemoReportFiles.Html)), Is.EqualTo(HtmlReport.Render(results)));
        Assert.That(Directory.GetFiles(folder, "*.tmp"), Is.Empty);
    }
}
