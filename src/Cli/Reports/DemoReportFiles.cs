using Amalgam.Engine.Demo;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Reports;

/// <summary>
/// The demo's human-readable reports, written by the CLI beside the engine's results.json:
/// results.md (the table, <see cref="MarkdownReport"/>) and report.html (<see cref="HtmlReport"/>).
/// Each is written to a temp file and renamed, so a report is never half written.
/// </summary>
internal static class DemoReportFiles
{
    public const string Markdown = "results.md", Html = "report.html";

    /// <summary>Writes both reports into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, DemoResults results)
    {
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var (name, text) in new[] { (Markdown, MarkdownReport.Render(results)), (Html, HtmlReport.Render(results)) })
        {
            string path = Path.Combine(folder, name);
            AtomicFile.WriteAllText(path, text);
            written.Add(path);
        }
        return written;
    }
}
