using System.Globalization;

namespace Amalgam.Engine.Demo;

/// <summary>
/// The papers' table from <see cref="DemoResults"/>: per-task accuracy, the average over tasks, and
/// the normalised accuracy (Yang et al. 2024, "AdaMerging", Table 2; Sun et al. 2025, "CAT Merging"):
/// for each task the merged model's accuracy divided by that task's fine-tuned (Individual) accuracy,
/// averaged over tasks. Numbers are percentages with one decimal; every report prints these cells.
/// </summary>
public static class ResultsTable
{
    public const string Missing = "—";

    /// <summary>Mean accuracy over tasks in [0, 1]; null for a failed row.</summary>
    public static double? Average(DemoRow row) => row.Accuracies is { Count: > 0 } a ? a.Average() : null;

    /// <summary>
    /// Mean over tasks of acc(row, t) / acc(individual, t); null when either row failed. A task whose
    /// fine-tuned accuracy is 0 has no ratio and is left out of the mean.
    /// </summary>
    public static double? Normalized(DemoRow row, DemoRow? individual)
    {
        if (row.Accuracies is not { } a || individual?.Accuracies is not { } ft || a.Count != ft.Count) return null;
        double sum = 0;
        int n = 0;
        for (int t = 0; t < a.Count; t++)
        {
            if (ft[t] <= 0) continue;
            sum += a[t] / ft[t];
            n++;
        }
        return n == 0 ? null : sum / n;
    }

    /// <summary>The Individual row of the results, if present.</summary>
    public static DemoRow? Individual(DemoResults results) => results.Rows.FirstOrDefault(r => r.Kind == RowKind.Individual);

    public static IReadOnlyList<string> Headers(DemoResults results) =>
        ["Method", "--method", .. results.Tasks, "Avg", "Norm", "Merge s"];

    /// <summary>Columns after the first two hold numbers (right-aligned in every rendering).</summary>
    public static bool IsNumeric(int column) => column > 1;

    /// <summary>What reproduces a merged row: the registry name and the settings the demo passed ("adamerging granularity=layer steps=50"); "—" for reference rows.</summary>
    public static string Command(DemoRow row) =>
        row.Method is null ? Missing : string.Join(" ", row.Settings.Select(kv => $"{kv.Key}={kv.Value}").Prepend(row.Method));

    /// <summary>One row of cells per result row, in <see cref="Headers"/> order; a failed row reads "failed" in every number column.</summary>
    public static IReadOnlyList<string[]> Cells(DemoResults results)
    {
        var individual = Individual(results);
        var rows = new List<string[]>();
        foreach (var row in results.Rows)
        {
            var cells = new List<string> { row.Name, Command(row) };
            if (row.Accuracies is { } acc)
            {
                cells.AddRange(acc.Select(a => Percent(a)));
                cells.Add(Percent(Average(row)));
                cells.Add(Percent(Normalized(row, individual)));
            }
            else
            {
                cells.AddRange(Enumerable.Repeat("failed", results.Tasks.Count + 2));
            }
            cells.Add(row.MergeSeconds is double s ? Seconds(s) : Missing);
            rows.Add([.. cells]);
        }
        return rows;
    }

    /// <summary>A fraction as a percentage with one decimal ("97.3"), or <see cref="Missing"/>.</summary>
    public static string Percent(double? fraction) =>
        fraction is double f ? (f * 100).ToString("F1", CultureInfo.InvariantCulture) : Missing;

    /// <summary>Seconds with two decimals ("0.42", "312.07").</summary>
    public static string Seconds(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>"name: reason" for every failed row, in row order.</summary>
    public static IReadOnlyList<string> Failures(DemoResults results) =>
        results.Rows.Where(r => r.Failed).Select(r => $"{r.Name}: {r.Failure}").ToArray();

    /// <summary>"name: warning" for every warning a merge raised, in row order.</summary>
    public static IReadOnlyList<string> Warnings(DemoResults results) =>
        results.Rows.SelectMany(r => r.Warnings.Select(w => $"{r.Name}: {w}")).ToArray();

    /// <summary>"TinyTasks" or "text-task": what the title says the models are.</summary>
    public static string ZooKind(DemoResults results) => results.Setup.Suite == "text" ? $"text-task ({results.Setup.Size})" : "TinyTasks";

    /// <summary>The sentence that explains the columns (every report prints it under the table).</summary>
    public static string Legend(DemoResults results)
    {
        var samples = results.Setup.TestSamples.Distinct().ToArray();
        bool text = results.Setup.Suite == "text";
        string unit = text ? " examples each" : " images each", model = text ? "encoder" : "tower";
        string n = samples.Length == 1 ? samples[0].ToString("N0", CultureInfo.InvariantCulture) + unit : "sizes " + string.Join(", ", samples.Select(s => s.ToString("N0", CultureInfo.InvariantCulture)));
        return "Accuracy (%) of each task's model on its labelled test split (" + n + "). "
            + $"Pretrained = the pretrained {model} with each task's linear-probe head; Individual = each task's fine-tuned model; "
            + $"merged rows evaluate, for every task, the merged {model} with that task's head; --method = the merge method and the settings the demo passed (the rest at their defaults). "
            + "Avg = mean over tasks; Norm = mean over tasks of (accuracy / that task's Individual accuracy), in %; "
            + "Merge s = wall seconds of the merge (data stage included).";
    }

    /// <summary>One line each: zoo, machine, timing (shared by the markdown and HTML reports).</summary>
    public static IReadOnlyList<string> Context(DemoResults r)
    {
        var s = r.Setup;
        var t = r.Timings;
        var inv = CultureInfo.InvariantCulture;
        return
        [
            s.Suite == "text"
                ? string.Create(inv, $"Zoo: encoder {s.Size}, {s.Parameters:N0} merged parameters (the encoder; each task adds its own head), {r.Tasks.Count} tasks, seed {s.Seed}, budget {s.Budget:R}.")
                : string.Create(inv, $"Zoo: size {s.Size}, {s.Parameters:N0} merged parameters (the tower; each task adds its own head), {r.Tasks.Count} tasks, seed {s.Seed}, budget {s.Budget:R}."),
            string.Create(inv, $"Machine: {s.Cores} cores ({s.Threads} threads used), {s.Cpu}, {s.Os}, {s.Runtime}; run started {s.StartedUtc}."),
            string.Create(inv, $"Timing: zoo {Seconds(t.Zoo)} s, reference rows {Seconds(t.Baselines)} s, merges {Seconds(t.Merges)} s, evaluation of merged models {Seconds(t.Evaluations)} s, total {Seconds(t.Total)} s."),
        ];
    }
}
