using System.Globalization;
using System.Text;
using Amalgam.Engine.Analysis;

namespace Amalgam.Cli.Reports;

/// <summary>
/// `amalgam analyze --html`: one self-contained page (inline CSS and SVG, nothing to fetch) with four
/// heatmaps: the overall pairwise cosine similarity and sign-conflict rate (K x K), and per shared
/// tensor the relative task-vector norm (tensors x tasks) and the cosine of every task pair (tensors x
/// pairs). Every cell carries its value as a tooltip. Well-formed XML, like <see cref="HtmlReport"/>.
/// </summary>
public static class AnalysisHtml
{
    private const int Cell = 44, RowCell = 12, LabelWidth = 260, HeaderHeight = 90;

    public static string Render(TaskVectorAnalysis a, string basePath)
    {
        ArgumentNullException.ThrowIfNull(a);
        var inv = CultureInfo.InvariantCulture;
        int K = a.Tasks.Count;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n");
        sb.Append("<title>Amalgam analyze: ").Append(K).Append(" task vectors</title>\n");
        sb.Append("<style>\nbody { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 80em; }\n")
          .Append("svg text { font-size: 11px; }\nfigure { margin: 1.5em 0; }\nfigcaption { font-weight: 600; margin-bottom: 0.4em; }\n</style>\n</head>\n<body>\n");
        sb.Append("<h1>Task vectors against ").Append(HtmlReport.Escape(basePath)).Append("</h1>\n");
        sb.Append(inv, $"<p>{K} tasks, {a.Layers.Count} shared tensors, {a.Overall.Elements} elements");
        if (a.Skipped.Count > 0) sb.Append(inv, $"; {a.Skipped.Count} private tensors left out");
        sb.Append(". Cosine: &lt;tau_i, tau_j&gt; / (||tau_i|| ||tau_j||). Sign conflict: share of the entries non-zero in both that differ in sign (0.5 = unrelated). Relative norm: ||tau_k|| / ||theta0||.</p>\n");

        string[] tasks = [.. a.Tasks];
        double[][] cos = a.Overall.Cosine, conflict = a.Overall.SignConflict;
        Heatmap(sb, "Cosine similarity, all shared tensors", tasks, tasks, Cell, (i, j) => cos[i][j], Diverging, "F3");
        Heatmap(sb, "Sign-conflict rate, all shared tensors", tasks, tasks, Cell, (i, j) => conflict[i][j], Sequential, "F3");

        string[] layerNames = [.. a.Layers.Select(l => l.Name)];
        double maxRelative = a.Layers.SelectMany(l => l.TaskNorms.Select((_, k) => l.RelativeNorm(k))).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        Heatmap(sb, string.Create(inv, $"Relative norm ||tau_k|| / ||theta0|| per tensor (colour scale 0 to {maxRelative:G3})"), layerNames, tasks, RowCell,
            (i, k) => a.Layers[i].RelativeNorm(k), v => Sequential(maxRelative > 0 ? v / maxRelative : 0), "G4");
        var pairs = new List<(int I, int J)>();
        for (int i = 0; i < K; i++)
            for (int j = i + 1; j < K; j++) pairs.Add((i, j));
        if (pairs.Count > 0)
            Heatmap(sb, "Cosine similarity of each task pair per tensor", layerNames, [.. pairs.Select(p => tasks[p.I] + " / " + tasks[p.J])], RowCell,
                (i, p) => a.Layers[i].Cosine[pairs[p].I][pairs[p].J], Diverging, "F3");
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>A rows x columns grid of coloured cells with row labels on the left and rotated column labels on top.</summary>
    private static void Heatmap(StringBuilder sb, string caption, string[] rows, string[] columns, int rowHeight,
        Func<int, int, double> value, Func<double, string> colour, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        int width = LabelWidth + columns.Length * Cell + 10, height = HeaderHeight + rows.Length * rowHeight + 4;
        sb.Append("<figure>\n<figcaption>").Append(HtmlReport.Escape(caption)).Append("</figcaption>\n");
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{HtmlReport.Escape(caption)}\">\n");
        for (int c = 0; c < columns.Length; c++)
        {
            int x = LabelWidth + c * Cell + Cell / 2;
            sb.Append(inv, $"<text x=\"{x}\" y=\"{HeaderHeight - 4}\" transform=\"rotate(-45 {x} {HeaderHeight - 4})\">{HtmlReport.Escape(Shorten(columns[c], 22))}</text>\n");
        }
        for (int r = 0; r < rows.Length; r++)
        {
            int y = HeaderHeight + r * rowHeight;
            sb.Append(inv, $"<text x=\"{LabelWidth - 4}\" y=\"{y + rowHeight - 2}\" text-anchor=\"end\"{(rowHeight < 14 ? " style=\"font-size: 9px\"" : "")}>{HtmlReport.Escape(Shorten(rows[r], 44))}</text>\n");
            for (int c = 0; c < columns.Length; c++)
            {
                double v = value(r, c);
                string shown = double.IsFinite(v) ? v.ToString(format, inv) : "undefined";
                sb.Append(inv, $"<rect x=\"{LabelWidth + c * Cell}\" y=\"{y}\" width=\"{Cell - 1}\" height=\"{rowHeight - 1}\" fill=\"{(double.IsFinite(v) ? colour(v) : "#ccc")}\">");
                sb.Append("<title>").Append(HtmlReport.Escape($"{rows[r]} / {columns[c]}: {shown}")).Append("</title></rect>\n");
                if (rowHeight >= 14)
                    sb.Append(inv, $"<text x=\"{LabelWidth + c * Cell + Cell / 2}\" y=\"{y + rowHeight / 2 + 4}\" text-anchor=\"middle\">{(double.IsFinite(v) ? v.ToString("F2", inv) : "-")}</text>\n");
            }
        }
        sb.Append("</svg>\n</figure>\n");
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : "…" + s[^(max - 1)..];

    /// <summary>-1 blue, 0 white, +1 red.</summary>
    private static string Diverging(double v)
    {
        double t = Math.Clamp(v, -1, 1);
        (int r, int g, int b) = t >= 0 ? Mix((255, 255, 255), (202, 0, 32), t) : Mix((255, 255, 255), (5, 113, 176), -t);
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// <summary>0 white to 1 dark orange.</summary>
    private static string Sequential(double t)
    {
        (int r, int g, int b) = Mix((255, 255, 255), (166, 54, 3), Math.Clamp(t, 0, 1));
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    private static (int, int, int) Mix((int R, int G, int B) from, (int R, int G, int B) to, double t) =>
        ((int)Math.Round(from.R + (to.R - from.R) * t), (int)Math.Round(from.G + (to.G - from.G) * t), (int)Math.Round(from.B + (to.B - from.B) * t));
}
