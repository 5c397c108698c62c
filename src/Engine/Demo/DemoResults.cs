namespace Amalgam.Engine.Demo;

/// <summary>What a row of the results table is: the two reference rows, or a merge.</summary>
public enum RowKind { Pretrained, Individual, Merged }

/// <summary>
/// One row of the demo's table: accuracy per task (task order of <see cref="DemoResults.Tasks"/>, each
/// in [0, 1]) or the one-line reason the row failed.
/// </summary>
public sealed record DemoRow
{
    /// <summary>Stable id (file and JSON key): "pretrained", "individual", "ties", "adamerging_layer_ties", ...</summary>
    public required string Id { get; init; }

    /// <summary>Display name, as the papers name the method ("TIES-Merging", "AdaMerging++ (layer-wise)").</summary>
    public required string Name { get; init; }

    public required RowKind Kind { get; init; }

    /// <summary>Registry name of the merge method; null for the reference rows.</summary>
    public string? Method { get; init; }

    /// <summary>Parameters the demo set explicitly (everything else is the method's default).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Accuracy per task in [0, 1]; null when the row failed.</summary>
    public IReadOnlyList<double>? Accuracies { get; init; }

    /// <summary>Wall seconds of the merge (data stage included); null for the reference rows.</summary>
    public double? MergeSeconds { get; init; }

    /// <summary>Wall seconds of evaluating the row's models on every task.</summary>
    public double EvalSeconds { get; init; }

    /// <summary>One-line reason when the merge or its evaluation threw; the row then has no accuracies.</summary>
    public string? Failure { get; init; }

    public bool Failed => Failure is not null;

    /// <summary>Warnings the merge raised (AdaMerging's collapse warnings, CAT's and RegMean's fallbacks), in order.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>The zoo and the machine a demo ran on, for the reports' header.</summary>
public sealed record DemoSetup
{
    /// <summary>Tower size preset ("tiny", "small", "base").</summary>
    public required string Size { get; init; }

    /// <summary>"vision" (TinyTasks-8; <see cref="Size"/> is the tower preset) or "text" (<see cref="Size"/> is the encoder).</summary>
    public string Suite { get; init; } = "vision";

    /// <summary>Parameters of the shared tower (what is merged; each task model adds its own head).</summary>
    public required long Parameters { get; init; }

    public required ulong Seed { get; init; }

    /// <summary>BuiltZoo training budget scale (1 = the size's defaults).</summary>
    public required double Budget { get; init; }

    /// <summary>Labelled test samples per task, in task order.</summary>
    public required IReadOnlyList<long> TestSamples { get; init; }

    /// <summary>Logical cores of the machine and the worker threads the demo used.</summary>
    public required int Cores { get; init; }
    public required int Threads { get; init; }

    /// <summary>CPU model (from /proc/cpuinfo when readable), OS and .NET runtime descriptions.</summary>
    public required string Cpu { get; init; }
    public required string Os { get; init; }
    public required string Runtime { get; init; }

    /// <summary>When the demo started (UTC, ISO 8601 to the minute).</summary>
    public required string StartedUtc { get; init; }
}

/// <summary>Wall time of each stage of a demo run, in seconds.</summary>
public sealed record DemoTimings
{
    /// <summary>Building the zoo, or loading it from the cache.</summary>
    public required double Zoo { get; init; }

    /// <summary>Evaluating the pretrained and fine-tuned models (the reference rows).</summary>
    public required double Baselines { get; init; }

    /// <summary>All merges together, and all evaluations of merged models together.</summary>
    public required double Merges { get; init; }
    public required double Evaluations { get; init; }

    public required double Total { get; init; }
}

/// <summary>Everything the demo measured: the table and the context the reports state.</summary>
public sealed record DemoResults
{
    public required DemoSetup Setup { get; init; }

    /// <summary>Task names, in column order.</summary>
    public required IReadOnlyList<string> Tasks { get; init; }

    /// <summary>Pretrained, Individual, then one row per method (variant).</summary>
    public required IReadOnlyList<DemoRow> Rows { get; init; }

    public required DemoTimings Timings { get; init; }

    /// <summary>Sentences the reports print under the table (e.g. a reduced AdaMerging step count), never hidden.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
