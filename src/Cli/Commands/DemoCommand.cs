using System.CommandLine;
using Amalgam.Cli.Reports;
using Amalgam.Engine.Demo;
using Amalgam.Kernels;

namespace Amalgam.Cli.Commands;

/// <summary>
/// `amalgam demo [--suite vision|text] [--base minilm|arctic] [--out DIR] [--size tiny|small|base]
/// [--tasks a,b,...] [--methods m1,m2,...] [--seed N] [--threads N] [--budget X] [--steps N]
/// [--paper-settings] [--quick] [--keep-models] [--cache DIR]`: builds or loads the model zoo (TinyTasks-8
/// on our ViT tower, or eight real text tasks on a real pretrained encoder), merges it with every
/// method, prints the accuracy table and writes results.json, results.md and report.html.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var @out = new Option<string>("--out") { Description = "folder for results.json, results.md and report.html", DefaultValueFactory = _ => "demo-results" };
        var suite = new Option<string>("--suite") { Description = "vision: TinyTasks-8 on our own ViT tower; text: eight real text tasks on a real pretrained encoder (MiniLM or arctic-embed-xs)", DefaultValueFactory = _ => "vision" };
        suite.AcceptOnlyFromAmong("vision", "text");
        var @base = new Option<string>("--base") { Description = "text suite: the pretrained encoder, minilm (all-MiniLM-L6-v2) or arctic (arctic-embed-xs)", DefaultValueFactory = _ => "minilm" };
        @base.AcceptOnlyFromAmong("minilm", "arctic");
        var paper = new Option<bool>("--paper-settings") { Description = "text suite: AdaMerging at the papers' 500 steps of 2 batches of 16 (about an hour per variant on 2 cores) instead of 50 steps of 1 batch of 8" };
        var size = new Option<string>("--size") { Description = "vision suite: zoo tower size (default small; tiny with --quick)" };
        size.AcceptOnlyFromAmong("tiny", "small", "base");
        var tasks = new Option<string>("--tasks") { Description = "comma-separated task names (default: all eight; two with --quick: mnist,fashion or wn-pos,fortune-lang)" };
        var methods = new Option<string>("--methods") { Description = "comma-separated methods to run (default: every registered method; adamerging runs its four variants)" };
        var seed = new Option<ulong>("--seed") { Description = "seed of the zoo and of the merges" };
        var threads = new Option<int?>("--threads") { Description = "worker threads (default: all cores)" };
        var budget = new Option<double?>("--budget") { Description = "zoo training budget scale (1 = the size's defaults)" };
        var steps = new Option<int?>("--steps") { Description = "AdaMerging steps (default: the method's; stated under the table when set)" };
        var quick = new Option<bool>("--quick") { Description = "reduced run: 2 tasks, small budget, few AdaMerging steps (vision: tiny tower); a smoke test" };
        var keep = new Option<bool>("--keep-models") { Description = "keep the merged models under OUT/models/" };
        var cache = new Option<string>("--cache") { Description = "zoo cache folder (default: <amalgam cache>/zoo)" };
        var device = DeviceOption.Create("the merges' and the evaluation's ONNX Runtime sessions (the zoo is built on the CPU)");
        var command = new Command("demo", "Build (or load) a model zoo (TinyTasks-8 vision, or real text tasks on MiniLM/arctic), merge it with every method and report accuracy per task (results.md, results.json, report.html).")
        {
            suite, @base, @out, size, tasks, methods, seed, threads, device, budget, steps, paper, quick, keep, cache,
        };
        command.SetAction(parsed =>
        {
            int? t = parsed.GetValue(threads);
            if (t is < 1) throw new BadInputException($"--threads {t}: must be at least 1");
            TextWriter err = Console.Error;
            var options = new DemoOptions
            {
                Out = parsed.GetValue(@out)!,
                Suite = parsed.GetValue(suite)!,
                Encoder = parsed.GetValue(@base)!,
                PaperSettings = parsed.GetValue(paper),
                Size = parsed.GetValue(size),
                Tasks = List(parsed.GetValue(tasks), "--tasks"),
                Methods = List(parsed.GetValue(methods), "--methods"),
                Seed = parsed.GetValue(seed),
                Threads = t ?? 0,
                Device = DeviceOption.Resolve(parsed, device),
                Budget = parsed.GetValue(budget),
                Steps = parsed.GetValue(steps),
                Quick = parsed.GetValue(quick),
                KeepModels = parsed.GetValue(keep),
                CacheDir = parsed.GetValue(cache),
                Progress = new DemoProgressView(err),
            };
            var results = DemoRunner.Run(options);
            Print(Console.Out, results);
            var reports = DemoReportFiles.Write(options.Out, results);
            Console.Out.WriteLine($"wrote {string.Join(", ", reports.Prepend(Path.Combine(options.Out, DemoRunner.ResultsJsonFile)))}");
            return CommandRunner.Ok;
        });
        return command;
    }

    /// <summary>The table as aligned text, then the legend, notes, failures and timing.</summary>
    internal static void Print(TextWriter o, DemoResults results)
    {
        var headers = ResultsTable.Headers(results);
        var table = new TextTable([.. headers]);
        for (int c = 0; c < headers.Count; c++)
            if (ResultsTable.IsNumeric(c)) table.RightAligned.Add(c);
        foreach (var cells in ResultsTable.Cells(results)) table.Add(cells);
        o.WriteLine();
        table.WriteTo(o);
        o.WriteLine();
        o.WriteLine(ResultsTable.Legend(results));
        foreach (string note in results.Notes) o.WriteLine($"note: {note}");
        foreach (string warning in ResultsTable.Warnings(results)) o.WriteLine($"warning: {warning}");
        foreach (string failure in ResultsTable.Failures(results)) o.WriteLine($"failed: {failure}");
        foreach (string line in ResultsTable.Context(results)) o.WriteLine(line);
    }

    /// <summary>A comma-separated list (blank entries dropped); null when the option was not given.</summary>
    internal static IReadOnlyList<string>? List(string? text, string option)
    {
        if (text is null) return null;
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0) throw new BadInputException($"{option} '{text}': expected a comma-separated list");
        return items;
    }
}
