using System.CommandLine;
using System.Globalization;
using Amalgam.Cli.Reports;
using Amalgam.Engine.Analysis;
using Amalgam.Engine.Merging;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Commands;

/// <summary>
/// `amalgam analyze --base B --model M ... [--private REGEX] [--json] [--html FILE] [--threads N]`:
/// per task the task-vector norm relative to the base, pairwise cosine similarity and sign-conflict
/// rate, overall and per shared tensor (<see cref="TaskVectorAnalysis"/>); the tensors a merge would
/// treat alike, so a user sees before merging which tasks and layers pull against each other.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var @base = new Option<string>("--base") { Description = "the pretrained model (.onnx, .safetensors, index .json or folder)", Required = true };
        var model = new Option<string[]>("--model") { Description = "a fine-tuned model; repeat in task order", Required = true };
        var priv = new Option<string>("--private") { Description = "regex of task-private parameters (heads), left out; needed when heads differ in shape" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of the text tables" };
        var html = new Option<string>("--html") { Description = "also write a self-contained HTML page with heatmaps (inline SVG, nothing fetched)" };
        var threads = new Option<int?>("--threads") { Description = "worker threads (default: all cores); the result does not depend on it" };
        var command = new Command("analyze", "Task-vector statistics: relative norms, pairwise cosine similarity and sign conflicts, overall and per layer.")
        {
            @base, model, priv, json, html, threads,
        };
        command.SetAction(parsed =>
        {
            int? t = parsed.GetValue(threads);
            if (t is < 1) throw new BadInputException($"--threads {t}: must be at least 1");
            string? htmlPath = parsed.GetValue(html);
            if (htmlPath is not null) AtomicFile.RequireFileInExistingFolder("--html", htmlPath, "an .html");
            string basePath = parsed.GetValue(@base)!;
            var analysis = ProgressView.Run<MergeProgress, TaskVectorAnalysis>(Console.Error, "analyze", MergeProgressView.Snapshot, progress => TaskVectorAnalysis.Run(new AnalysisRequest
            {
                Base = basePath, Models = parsed.GetValue(model) ?? [], Private = parsed.GetValue(priv), Threads = t ?? 0, Progress = progress,
            }));
            if (htmlPath is not null) AtomicFile.WriteAllText(htmlPath, AnalysisHtml.Render(analysis, basePath));
            if (parsed.GetValue(json)) Console.Out.WriteLine(AnalysisJson.Write(analysis, basePath));
            else WriteText(Console.Out, analysis, basePath);
            return CommandRunner.Ok;
        });
        return command;
    }

    internal static void WriteText(TextWriter o, TaskVectorAnalysis a, string basePath)
    {
        var c = CultureInfo.InvariantCulture;
        var all = a.Overall;
        string left = a.Skipped.Count > 0 ? string.Create(c, $"; {a.Skipped.Count} private tensors left out") : "";
        o.WriteLine(string.Create(c, $"task vectors tau_k = theta_k - theta0 of {a.Tasks.Count} models against {basePath}: {a.Layers.Count} shared tensors, {all.Elements} elements{left}"));
        o.WriteLine();
        o.WriteLine("overall (all shared tensors as one vector)");
        var norms = new TextTable("task", "||tau||", "||tau|| / ||theta0||") { RightAligned = { 1, 2 } };
        for (int k = 0; k < a.Tasks.Count; k++) norms.Add(a.Tasks[k], Format(all.TaskNorms[k], "G4"), Format(all.RelativeNorm(k), "F4"));
        norms.WriteTo(o);
        o.WriteLine();
        o.WriteLine("cosine similarity <tau_i, tau_j> / (||tau_i|| ||tau_j||)");
        Matrix(o, a.Tasks, all.Cosine);
        o.WriteLine();
        o.WriteLine("sign conflicts: share of the entries non-zero in both that differ in sign (0.5 = unrelated)");
        Matrix(o, a.Tasks, all.SignConflict);
        o.WriteLine();
        o.WriteLine("per shared tensor");
        var layers = new TextTable([
            "tensor", "elements", .. a.Tasks.Select(t => "rel " + t), "mean cos", "mean conflict",
        ]);
        for (int i = 1; i < a.Tasks.Count + 4; i++) layers.RightAligned.Add(i);
        foreach (var l in a.Layers)
            layers.Add([
                l.Name, l.Elements.ToString(c), .. l.TaskNorms.Select((_, k) => Format(l.RelativeNorm(k), "F4")),
                Format(LayerAnalysis.PairMean(l.Cosine), "F4"), Format(LayerAnalysis.PairMean(l.SignConflict), "F4"),
            ]);
        layers.WriteTo(o);
        if (a.Skipped.Count > 0) o.WriteLine($"left out (--private): {string.Join(", ", a.Skipped)}");
    }

    private static void Matrix(TextWriter o, IReadOnlyList<string> tasks, double[][] m)
    {
        var table = new TextTable(["", .. tasks]);
        for (int j = 1; j <= tasks.Count; j++) table.RightAligned.Add(j);
        for (int i = 0; i < tasks.Count; i++) table.Add([tasks[i], .. m[i].Select(v => Format(v, "F4"))]);
        table.WriteTo(o);
    }

    /// <summary>An undefined value (NaN: a zero norm, no entry non-zero in both) prints as "-".</summary>
    internal static string Format(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
