using System.Globalization;
using System.Text;
using Amalgam.Engine.Demo;

namespace Amalgam.Cli.Reports;

/// <summary>
/// report.html: one self-contained page (inline CSS and SVG; no scripts, fonts, images or links to
/// fetch) with the table and horizontal bar charts: one chart per task with a bar per row, then the
/// average and normalised accuracy. Written as well-formed XML so any XML parser can check it.
/// </summary>
public static class HtmlReport
{
    private const int LabelWidth = 210, PlotWidth = 380, ValueWidth = 50, BarHeight = 14, RowHeight = 19, Top = 6, AxisHeight = 18;

    private static readonly string[] Palette =
    [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
        "#9c755f", "#86bcb6", "#d37295", "#8cd17d", "#b6992d", "#499894", "#fabfd2", "#79706e",
    ];

    public static string Render(DemoResults results)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
        sb.Append("<title>Amalgam demo: merging ").Append(results.Tasks.Count).Append(' ').Append(ResultsTable.ZooKind(results)).Append(" models</title>\n");
        sb.Append("<style>\n")
          .Append("body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 72em; }\n")
          .Append("table { border-collapse: collapse; margin: 1em 0; }\n")
          .Append("th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; }\n")
          .Append("td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }\n")
          .Append("tr.reference td { color: #555; font-style: italic; }\n")
          .Append("tr.failed td { color: #a00; }\n")
          .Append("figure { display: inline-block; margin: 0.5em 1.5em 1em 0; vertical-align: top; }\n")
          .Append("figcaption { font-weight: bold; margin-bottom: 0.3em; }\n")
          .Append("svg text { font-size: 11px; font-family: system-ui, sans-serif; }\n")
          .Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>Amalgam demo: merging ").Append(results.Tasks.Count).Append(' ').Append(ResultsTable.ZooKind(results)).Append(" models</h1>\n");
        foreach (string line in ResultsTable.Context(results)) sb.Append("<p>").Append(Escape(line)).Append("</p>\n");

        Table(sb, results);
        sb.Append("<p>").Append(Escape(ResultsTable.Legend(results))).Append("</p>\n");
        List(sb, "Notes", results.Notes);
        List(sb, "Warnings", ResultsTable.Warnings(results));
        List(sb, "Failed", ResultsTable.Failures(results));

        var colors = Colors(results);
        sb.Append("<h2>Accuracy per task (%)</h2>\n");
        for (int t = 0; t < results.Tasks.Count; t++)
        {
            int task = t;
            Chart(sb, results, results.Tasks[t], results.Tasks[t], colors, row => row.Accuracies?[task]);
        }
        var individual = ResultsTable.Individual(results);
        sb.Append("<h2>Average over tasks (%)</h2>\n");
        Chart(sb, results, "Average accuracy", "(average)", colors, ResultsTable.Average);
        Chart(sb, results, "Normalised accuracy (accuracy / fine-tuned accuracy)", "(normalized)", colors, row => ResultsTable.Normalized(row, individual));
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private static void Table(StringBuilder sb, DemoResults results)
    {
        var headers = ResultsTable.Headers(results);
        sb.Append("<table>\n<thead>\n<tr>");
        for (int c = 0; c < headers.Count; c++)
            sb.Append(ResultsTable.IsNumeric(c) ? "<th class=\"num\">" : "<th>").Append(Escape(headers[c])).Append("</th>");
        sb.Append("</tr>\n</thead>\n<tbody>\n");
        var cells = ResultsTable.Cells(results);
        for (int r = 0; r < cells.Count; r++)
        {
            var row = results.Rows[r];
            string cls = row.Failed ? " class=\"failed\"" : row.Kind != RowKind.Merged ? " class=\"reference\"" : "";
            sb.Append("<tr").Append(cls).Append('>');
            for (int c = 0; c < cells[r].Length; c++)
                sb.Append(ResultsTable.IsNumeric(c) ? "<td class=\"num\">" : "<td>").Append(Escape(cells[r][c])).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
    }

    private static void List(StringBuilder sb, string title, IReadOnlyList<string> items)
    {
        if (items.Count == 0) return;
        sb.Append("<h2>").Append(title).Append("</h2>\n<ul>\n");
        foreach (string item in items) sb.Append("<li>").Append(Escape(item)).Append("</li>\n");
        sb.Append("</ul>\n");
    }

    /// <summary>Reference rows in greys, each merge method its own colour.</summary>
    private static string[] Colors(DemoResults results)
    {
        int next = 0;
        return results.Rows.Select(r => r.Kind switch
        {
            RowKind.Pretrained => "#bab0ac",
            RowKind.Individual => "#555555",
            _ => Palette[next++ % Palette.Length],
        }).ToArray();
    }

    /// <summary>
    /// A horizontal bar chart, one bar per row with a value (0..1 drawn on 0..100 %), gridlines every
    /// 25 %; a row without a value (failed) shows "failed" in place of its bar.
    /// </summary>
    private static void Chart(StringBuilder sb, DemoResults results, string caption, string key, string[] colors, Func<DemoRow, double?> value)
    {
        var inv = CultureInfo.InvariantCulture;
        int rows = results.Rows.Count;
        int width = LabelWidth + PlotWidth + ValueWidth, height = Top + rows * RowHeight + AxisHeight;
        sb.Append("<figure>\n<figcaption>").Append(Escape(caption)).Append("</figcaption>\n");
        sb.Append(inv, $"<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{Escape(caption)}\">\n");
        for (int g = 0; g <= 4; g++)
        {
            double x = LabelWidth + PlotWidth * g / 4.0;
            sb.Append(inv, $"<line x1=\"{x:F1}\" y1=\"{Top}\" x2=\"{x:F1}\" y2=\"{Top + rows * RowHeight}\" stroke=\"#ddd\" />\n");
            sb.Append(inv, $"<text x=\"{x:F1}\" y=\"{height - 4}\" text-anchor=\"middle\" fill=\"#777\">{g * 25}</text>\n");
        }
        for (int r = 0; r < rows; r++)
        {
            var row = results.Rows[r];
            int y = Top + r * RowHeight;
            int textY = y + BarHeight - 3;
            sb.Append(inv, $"<text x=\"{LabelWidth - 6}\" y=\"{textY}\" text-anchor=\"end\">{Escape(row.Name)}</text>\n");
            if (value(row) is double v)
            {
                double w = PlotWidth * Math.Clamp(v, 0, 1);
                sb.Append(inv, $"<rect class=\"bar\" data-task=\"{Escape(key)}\" data-row=\"{Escape(row.Id)}\" x=\"{LabelWidth}\" y=\"{y}\" width=\"{w:F1}\" height=\"{BarHeight}\" fill=\"{colors[r]}\">");
                sb.Append("<title>").Append(Escape($"{row.Name}: {ResultsTable.Percent(v)} %")).Append("</title></rect>\n");
                sb.Append(inv, $"<text x=\"{LabelWidth + w + 4:F1}\" y=\"{textY}\">{ResultsTable.Percent(v)}</text>\n");
            }
            else
            {
                sb.Append(inv, $"<text x=\"{LabelWidth + 4}\" y=\"{textY}\" fill=\"#a00\">{(row.Failed ? "failed" : ResultsTable.Missing)}</text>\n");
            }
        }
        sb.Append("</svg>\n</figure>\n");
    }

    /// <summary>Text and attribute escaping for HTML that is also well-formed XML.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    // Control characters are not allowed in XML 1.0 text.
                    if (c < ' ' && c is not ('\n' or '\t')) sb.Append(' ');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
