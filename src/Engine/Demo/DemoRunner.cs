using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Data.Tasks;
using Amalgam.Engine.Data.Text;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Zoo.Text;
using Amalgam.Engine.Zoo;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Demo;

/// <summary>
/// The benchmark behind `amalgam demo`: builds or loads the zoo, evaluates the pretrained (probe
/// heads) and fine-tuned models, merges the fine-tuned models with every planned method through
/// <see cref="Merger"/>, evaluates each task's merged model on its labelled test split, and writes
/// results.json (the CLI renders results.md and report.html from the same DemoResults: src/Cli/Reports). A method that throws gives a failed row; the rest runs.
/// Results are reported as measured: nothing here is tuned towards any expected ordering.
/// </summary>
public static class DemoRunner
{
    public const string ResultsJsonFile = "results.json";

    public static DemoResults Run(DemoOptions options) =>
        Run(options, options.IsText ? z => TextZooBuilder.BuildOrLoad(TextZooOptionsOf(options, z)) : ZooBuilder.BuildOrLoad, plan: null);

    /// <summary>The text zoo the demo's options name (the vision zoo's options carry tasks, seed, budget, threads and progress).</summary>
    private static TextZooOptions TextZooOptionsOf(DemoOptions options, ZooOptions z) => new()
    {
        CacheDir = z.CacheDir, Encoder = options.Encoder, Tasks = z.Tasks, Seed = z.Seed, Budget = z.Budget, Threads = z.Threads, Progress = z.Progress,
        TestSamples = options.Quick ? 256 : 1000,   // fisher and regmean read 256 samples per task at their defaults
    };

    /// <summary>The demo with another zoo source and, optionally, another plan (tests).</summary>
    internal static DemoResults Run(DemoOptions options, Func<ZooOptions, BuiltZoo> buildZoo, IReadOnlyList<PlannedRow>? plan)
    {
        ArgumentNullException.ThrowIfNull(options);
        var total = Stopwatch.StartNew();
        string started = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        Validate(options);
        plan ??= DemoPlan.Rows(options.Methods, options.EffectiveSteps, options.AdaMergingSettings, options.MethodSettings);
        var progress = options.Progress ?? SilentProgress.Instance;
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;

        var clock = Stopwatch.StartNew();
        var zooOptions = new ZooOptions
        {
            CacheDir = options.CacheDir,
            Size = options.EffectiveSize,
            Tasks = options.EffectiveTasks,
            Seed = options.Seed,
            Budget = options.EffectiveBudget,
            Threads = options.Threads,
        };
        BuiltZoo zoo = progress.BuildZoo(p => buildZoo(zooOptions with { Progress = p }));
        double zooSeconds = clock.Elapsed.TotalSeconds;
        progress.Message(string.Create(CultureInfo.InvariantCulture, $"zoo: {zoo.Tasks.Count} tasks, {zoo.ParameterCount:N0} merged parameters (tower) per model, ready in {zooSeconds:F1} s ({zoo.Folder})"));

        clock.Restart();
        var rows = new List<DemoRow>
        {
            Reference(zoo, progress, threads, options.Device, "pretrained", "Pretrained (probe heads)", RowKind.Pretrained, t => t.Pretrained),
            Reference(zoo, progress, threads, options.Device, "individual", "Individual (fine-tuned)", RowKind.Individual, t => t.FineTuned),
        };
        double baselineSeconds = clock.Elapsed.TotalSeconds;

        string scratch = options.KeepModels ? Path.Combine(options.Out, "models") : Directory.CreateTempSubdirectory("amalgam-demo-").FullName;
        try
        {
            foreach (var planned in plan) rows.Add(MergeRow(zoo, options, planned, progress, threads, scratch, rows[1]));
        }
        finally
        {
            if (!options.KeepModels) TryDelete(scratch);
        }

        var results = new DemoResults
        {
            Setup = new DemoSetup
            {
                Size = zooOptions.Size,
                Suite = options.Suite,
                Parameters = zoo.ParameterCount,
                Seed = options.Seed,
                Budget = zooOptions.Budget,
                TestSamples = zoo.Tasks.Select(t => SampleCount(t.TestLabels)).ToArray(),
                Cores = Environment.ProcessorCount,
                Threads = threads,
                Cpu = CpuModel(),
                Os = RuntimeInformation.OSDescription,
                Runtime = RuntimeInformation.FrameworkDescription,
                StartedUtc = started,
            },
            Tasks = zoo.Tasks.Select(t => t.Name).ToArray(),
            Rows = rows,
            Notes = Notes(options, plan),
            Timings = new DemoTimings
            {
                Zoo = zooSeconds,
                Baselines = baselineSeconds,
                Merges = rows.Sum(r => r.MergeSeconds ?? 0),
                Evaluations = rows.Where(r => r.Kind == RowKind.Merged).Sum(r => r.EvalSeconds),
                Total = total.Elapsed.TotalSeconds,
            },
        };
        WriteReports(options.Out, results);
        return results;
    }

    private static void Validate(DemoOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Out)) throw new BadInputException("--out: empty path");
        if (File.Exists(o.Out)) throw new BadInputException($"--out {o.Out}: is a file; the demo writes a folder of reports");
        if (o.Threads < 0) throw new BadInputException($"--threads {o.Threads}: must be at least 1");
        if (o.Steps is < 1) throw new BadInputException($"--steps {o.Steps}: must be at least 1");
        if (o.Budget is double b && !(b > 0 && double.IsFinite(b))) throw new BadInputException($"--budget {b.ToString(CultureInfo.InvariantCulture)}: must be a positive number");
        if (o.Suite is not (DemoOptions.VisionSuite or DemoOptions.TextSuite))
            throw new BadInputException($"--suite {o.Suite}: unknown suite (known: {DemoOptions.VisionSuite}, {DemoOptions.TextSuite})");
        if (o.IsText && o.Size is not null) throw new BadInputException("--size: the text suite's model is chosen with --base (minilm or arctic)");
        var tasks = o.EffectiveTasks;
        if (tasks.Count == 0) throw new BadInputException("--tasks: no tasks given");
        foreach (string t in tasks)
        {
            if (!o.IsText) TinyTasks.Get(t);
            else if (!TextTasks.Names.Contains(t)) throw new BadInputException($"--tasks: unknown text task '{t}' (known: {string.Join(", ", TextTasks.Names)})");
        }
        if (tasks.Distinct().Count() != tasks.Count) throw new BadInputException($"--tasks {string.Join(",", tasks)}: a task is listed twice");
    }

    private static DemoRow Reference(BuiltZoo zoo, IDemoProgress progress, int threads, ComputeDevice device, string id, string name, RowKind kind, Func<ZooTask, string> model)
    {
        var clock = Stopwatch.StartNew();
        var acc = progress.Evaluate(name, p => Evaluate(zoo, zoo.Tasks.Select(model).ToArray(), name, threads, device, p));
        var row = new DemoRow { Id = id, Name = name, Kind = kind, Accuracies = acc, EvalSeconds = clock.Elapsed.TotalSeconds };
        progress.Message($"{name}: average accuracy {ResultsTable.Percent(ResultsTable.Average(row))} %");
        return row;
    }

    private static DemoRow MergeRow(BuiltZoo zoo, DemoOptions options, PlannedRow planned, IDemoProgress progress, int threads, string scratch, DemoRow individual)
    {
        var row = new DemoRow { Id = planned.Id, Name = planned.Name, Kind = RowKind.Merged, Method = planned.Method, Settings = planned.Settings };
        var clock = Stopwatch.StartNew();
        double? mergeSeconds = null;
        try
        {
            string outDir = Path.Combine(scratch, planned.Id);
            if (Directory.Exists(outDir)) Directory.Delete(outDir, recursive: true);
            var request = new MergeRequest
            {
                Method = planned.Method,
                Base = zoo.Base,
                Models = zoo.Tasks.Select(t => t.FineTuned).ToArray(),
                Private = zoo.PrivateRegex,
                // Unlabeled test inputs, as in the AdaMerging and CAT papers; training-free methods ignore them.
                Data = zoo.Tasks.Select(t => t.TestInputs).ToArray(),
                Out = outDir,
                Set = planned.Settings,
                Seed = options.Seed,
                Threads = options.Threads,
                Device = options.Device,
            };
            var warnings = new List<string>();
            var result = progress.Merge(planned.Name, p => Merger.Merge(request with { Progress = new WarningTap(p, warnings) }));
            mergeSeconds = clock.Elapsed.TotalSeconds;
            row = row with { Warnings = warnings };
            if (result.Outputs.Count != zoo.Tasks.Count)
                throw new InvalidOperationException($"the merge wrote {result.Outputs.Count} models for {zoo.Tasks.Count} tasks");
            clock.Restart();
            var acc = progress.Evaluate(planned.Name, p => Evaluate(zoo, result.Outputs, planned.Name, threads, options.Device, p));
            row = row with { Accuracies = acc, MergeSeconds = mergeSeconds, EvalSeconds = clock.Elapsed.TotalSeconds };
            progress.Message($"{planned.Name}: merged in {ResultsTable.Seconds(mergeSeconds.Value)} s, average accuracy {ResultsTable.Percent(ResultsTable.Average(row))} %, normalised {ResultsTable.Percent(ResultsTable.Normalized(row, individual))} %");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            row = row with { Failure = OneLine(e), MergeSeconds = mergeSeconds, EvalSeconds = mergeSeconds is null ? 0 : clock.Elapsed.TotalSeconds };
            progress.Message($"{planned.Name}: failed: {row.Failure}");
        }
        return row;
    }

    /// <summary>Accuracy of models[t] on task t, tasks in parallel (each on one single-threaded session).</summary>
    private static double[] Evaluate(BuiltZoo zoo, IReadOnlyList<string> models, string row, int threads, ComputeDevice device, IProgress<EvaluationProgress>? progress)
    {
        var acc = new double[zoo.Tasks.Count];
        int done = 0;
        var clock = Stopwatch.StartNew();
        var gate = new object();
        progress?.Report(new EvaluationProgress(row, 0, acc.Length, TimeSpan.Zero));
        try
        {
            Parallel.For(0, acc.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                acc[t] = TaskEvaluation.Accuracy(models[t], zoo.Tasks[t].TestInputs, zoo.Tasks[t].TestLabels, device);
                lock (gate) progress?.Report(new EvaluationProgress(row, ++done, acc.Length, clock.Elapsed));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
        return acc;
    }

    private static IReadOnlyList<string> Notes(DemoOptions options, IReadOnlyList<PlannedRow> plan)
    {
        var inv = CultureInfo.InvariantCulture;
        var notes = new List<string>();
        if (options.Quick)
            notes.Add(string.Create(inv, $"Reduced run (--quick): {options.EffectiveSize} {(options.IsText ? "encoder" : "tower")}, {options.EffectiveTasks.Count} tasks, zoo budget {options.EffectiveBudget:R}; a smoke test, not a benchmark."));
        notes.Add("Every method runs at its default parameters" + (plan.Any(p => p.Method == DemoPlan.AdaMerging) ? " (AdaMerging: the settings named in its rows)." : "."));
        if (plan.Any(p => p.Method == DemoPlan.AdaMerging))
        {
            string? dflt = DemoPlan.DefaultOf(DemoPlan.AdaMerging, "steps");
            if (options.EffectiveSteps is int steps)
            {
                string why = options.Steps is not null ? "--steps" : options.Quick ? "--quick" : "the demo's time budget";
                notes.Add($"AdaMerging rows ran steps={steps.ToString(inv)}, not the method's default{(dflt is null ? "" : " " + dflt)} (set by {why}).");
                if (options.AdaMergingSettings.Count > 0)
                    notes.Add("AdaMerging rows also ran " + string.Join(", ", options.AdaMergingSettings.Select(kv => $"{kv.Key}={kv.Value}"))
                        + " instead of the defaults " + string.Join(", ", options.AdaMergingSettings.Keys.Select(k => $"{k}={DemoPlan.DefaultOf(DemoPlan.AdaMerging, k)}"))
                        + ": the papers' 500 steps of 2 x 16 sequences per task take about an hour per variant through a 22.7M-parameter encoder on 2 cores; `amalgam demo --suite text --paper-settings` runs them.");
            }
            else if (dflt is not null)
            {
                notes.Add($"AdaMerging rows ran the method's default steps={dflt}.");
            }
        }
        var dataMethods = plan.Where(DemoPlan.NeedsData).Select(p => p.Method).Distinct().ToArray();
        if (dataMethods.Length > 0)
            notes.Add($"Data-dependent methods ({string.Join(", ", dataMethods)}) get each task's unlabeled test inputs as --data (the labels are used only for evaluation), as in the AdaMerging and CAT papers.");
        if (plan.FirstOrDefault(p => p.Method == "wudi" && p.Settings.ContainsKey("steps")) is { } wudi)
            notes.Add($"WUDI-Merging ran steps={wudi.Settings["steps"]}, not the official 300 (set by --quick).");
        if (plan.Any(p => p.Method == "emr"))
            notes.Add("EMR-Merging writes one model per task (its shared weights masked and rescaled per task), so its row evaluates each task with that task's own model: it needs the task known at inference, unlike every other row's single merged tower.");
        if (options.Methods is not null) notes.Add($"Only these methods were run (--methods): {string.Join(", ", options.Methods)}.");
        return notes;
    }

    private static void WriteReports(string folder, DemoResults results)
    {
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, ResultsJsonFile), ResultsJson.Render(results));   // never half written
    }

    private static long SampleCount(string npyPath)
    {
        using var stream = File.OpenRead(npyPath);
        var header = NpyFile.ReadHeader(stream, npyPath);
        return header.Shape.Length > 0 ? header.Shape[0] : 0;
    }

    private static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int i and > 0)
                    return line[(i + 1)..].Trim();
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The exception's first line (one-line reasons in the table).</summary>
    internal static string OneLine(Exception e)
    {
        string message = e.Message.Split('\n', 2)[0].Trim();
        return e is BadInputException || e.GetType() == typeof(Exception) ? message : $"{e.GetType().Name}: {message}";
    }

    private static void TryDelete(string folder)
    {
        try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Passes progress on and keeps the warnings, for the row's reports.</summary>
    private sealed class WarningTap(IProgress<MergeProgress>? inner, List<string> warnings) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value)
        {
            if (value.Warning is { } w) lock (warnings) warnings.Add(w);
            inner?.Report(value);
        }
    }

    private sealed class SilentProgress : IDemoProgress
    {
        public static readonly SilentProgress Instance = new();
        public BuiltZoo BuildZoo(Func<IProgress<ZooProgress>?, BuiltZoo> work) => work(null);
        public MergeResult Merge(string row, Func<IProgress<MergeProgress>?, MergeResult> work) => work(null);
        public T Evaluate<T>(string row, Func<IProgress<EvaluationProgress>?, T> work) => work(null);
        public void Message(string line) { }
    }
}
