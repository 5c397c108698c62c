using System.Text;
using Amalgam.Engine.Demo;

namespace Amalgam.Cli.Reports;

/// <summary>results.md: the context lines, the table (GitHub markdown), its legend, notes and failures.</summary>
public static class MarkdownReport
{
    public static string Render(DemoResults results)
    {
        var sb = new StringBuilder();
        sb.Append("# Amalgam demo: merging ").Append(results.Tasks.Count).Append(' ').Append(ResultsTable.ZooKind(results)).Append(" models\n\n");
        foreach (string line in ResultsTable.Context(results)) sb.Append(line).Append("\n\n");

        var headers = ResultsTable.Headers(results);
        Row(sb, headers);
        Row(sb, headers.Select((_, c) => ResultsTable.IsNumeric(c) ? "---:" : "---"));
        foreach (var cells in ResultsTable.Cells(results)) Row(sb, cells);
        sb.Append('\n').Append(ResultsTable.Legend(results)).Append('\n');

        if (results.Notes.Count > 0)
        {
            sb.Append("\nNotes:\n\n");
            foreach (string note in results.Notes) sb.Append("- ").Append(note).Append('\n');
        }
        var warnings = ResultsTable.Warnings(results);
        if (warnings.Count > 0)
        {
            sb.Append("\nWarnings:\n\n");
            foreach (string w in warnings) sb.Append("- ").Append(w).Append('\n');
        }
        var failures = ResultsTable.Failures(results);
        if (failures.Count > 0)
        {
            sb.Append("\nFailed:\n\n");
            foreach (string f in failures) sb.Append("- ").Append(f).Append('\n');
        }
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, IEnumerable<string> cells) =>
        sb.Append("| ").Append(string.Join(" | ", cells.Select(Escape))).Append(" |\n");

    /// <summary>A pipe or line break inside a cell would end it (failure reasons are free text).</summary>
    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal).Replace('\n', ' ');
}
