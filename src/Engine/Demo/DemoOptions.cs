using Amalgam.Engine.Data.Tasks;

namespace Amalgam.Engine.Demo;

/// <summary>
/// What `amalgam demo` runs: the zoo to build or load, the methods to merge with, where the reports
/// go. Null sizes, tasks, budget and steps take their defaults, or the reduced ones with <see cref="Quick"/>.
/// </summary>
public sealed record DemoOptions
{
    /// <summary>The tasks and budget of a quick run (CI smoke test): two tasks from the two image sources.</summary>
    public static readonly IReadOnlyList<string> QuickTasks = ["mnist", "fashion"];
    public const string QuickSize = "tiny";
    public const double QuickBudget = 0.5;

    /// <summary>AdaMerging steps of a quick run.</summary>
    public const int QuickSteps = 10;

    /// <summary>
    /// AdaMerging steps of a full run; null = the method's own default (500 in the paper). A smaller
    /// number is passed explicitly and stated under the table, never silently.
    /// </summary>
    public static readonly int? DefaultSteps = null;

    /// <summary>Folder for results.json, results.md and report.html (created if missing).</summary>
    public string Out { get; init; } = "demo-results";

    /// <summary>Zoo tower size ("tiny", "small", "base"); null = small, tiny with <see cref="Quick"/>.</summary>
    public string? Size { get; init; }

    /// <summary>TinyTasks names in column order; null = all eight, two with <see cref="Quick"/>.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    /// <summary>Registry names of the methods to run (`adamerging` runs its four variants); null = every registered method.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Worker threads for the zoo, the merges and the evaluation; 0 = all cores.</summary>
    public int Threads { get; init; }

    /// <summary>Zoo training budget scale; null = 1, <see cref="QuickBudget"/> with <see cref="Quick"/>.</summary>
    public double? Budget { get; init; }

    /// <summary>AdaMerging steps; null = <see cref="DefaultSteps"/>, <see cref="QuickSteps"/> with <see cref="Quick"/>.</summary>
    public int? Steps { get; init; }

    /// <summary>The reduced run: tiny tower, two tasks, small budget, few AdaMerging steps (each still overridable).</summary>
    public bool Quick { get; init; }

    /// <summary>Zoo cache folder; null = the zoo's default under the amalgam cache.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Keep every merged model under &lt;Out&gt;/models/&lt;row id&gt;/ (default: merged into a temp folder, deleted after evaluation).</summary>
    public bool KeepModels { get; init; }

    /// <summary>Shows each stage's progress; null = silent.</summary>
    public IDemoProgress? Progress { get; init; }

    public string EffectiveSize => Size ?? (Quick ? QuickSize : "small");
    public IReadOnlyList<string> EffectiveTasks => Tasks ?? (Quick ? QuickTasks : TinyTasks.Names.ToArray());
    public double EffectiveBudget => Budget ?? (Quick ? QuickBudget : 1.0);
    public int? EffectiveSteps => Steps ?? (Quick ? QuickSteps : DefaultSteps);
}
