using Amalgam.Engine.Data.Tasks;
using Amalgam.Engine.Data.Text;

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

    public const string VisionSuite = "vision", TextSuite = "text";

    /// <summary>The tasks of a quick text run: one single-text and one language task.</summary>
    public static readonly IReadOnlyList<string> QuickTextTasks = ["wn-pos", "fortune-lang"];
    public const double QuickTextBudget = 0.1;

    /// <summary>
    /// AdaMerging steps of the text suite unless <see cref="PaperSettings"/>, with the batches of
    /// <see cref="TextAdaMergingBatches"/>: a step there runs 8 tasks x batch_size sequences forward and
    /// backward through a 22.7M-parameter encoder (measured 0.58 steps/s at 8 x 8 on 2 cores), so the
    /// papers' 500 steps x 2 batches x 16 (about an hour per variant) cannot fit in the hour the whole
    /// suite has. Stated under the table.
    /// </summary>
    public const int TextSteps = 50;

    public static readonly IReadOnlyDictionary<string, string> TextAdaMergingBatches =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["batch_size"] = "8", ["batches_per_step"] = "1" };

    /// <summary>
    /// AdaMerging steps of a full run; null = the method's own default (500 in the paper). A smaller
    /// number is passed explicitly and stated under the table, never silently.
    /// </summary>
    public static readonly int? DefaultSteps = null;

    /// <summary>Folder for results.json (created if missing); the CLI writes results.md and report.html beside it.</summary>
    public string Out { get; init; } = "demo-results";

    /// <summary>"vision" (TinyTasks-8 on our own ViT tower, default) or "text" (eight real text tasks on a real pretrained encoder).</summary>
    public string Suite { get; init; } = VisionSuite;

    /// <summary>The text suite's pretrained encoder: "minilm" (default) or "arctic".</summary>
    public string Encoder { get; init; } = "minilm";

    /// <summary>Text suite: run AdaMerging at the papers' settings (500 steps, 2 batches of 16) instead of <see cref="TextSteps"/> and <see cref="TextAdaMergingBatches"/>.</summary>
    public bool PaperSettings { get; init; }

    /// <summary>BuiltZoo tower size ("tiny", "small", "base"); null = small, tiny with <see cref="Quick"/>. Vision suite only.</summary>
    public string? Size { get; init; }

    /// <summary>Task names in column order (TinyTasks, or the text tasks); null = all eight, two with <see cref="Quick"/>.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    /// <summary>Registry names of the methods to run (`adamerging` runs its four variants); null = every registered method.</summary>
    public IReadOnlyList<string>? Methods { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Worker threads for the zoo, the merges and the evaluation; 0 = all cores.</summary>
    public int Threads { get; init; }

    /// <summary>Where the merges' and the evaluation's ONNX Runtime sessions run (the zoo is built on the CPU).</summary>
    public Amalgam.Kernels.ComputeDevice Device { get; init; } = Amalgam.Kernels.ComputeDevice.Cpu;

    /// <summary>BuiltZoo training budget scale; null = 1, <see cref="QuickBudget"/> with <see cref="Quick"/>.</summary>
    public double? Budget { get; init; }

    /// <summary>AdaMerging steps; null = <see cref="DefaultSteps"/>, <see cref="QuickSteps"/> with <see cref="Quick"/>.</summary>
    public int? Steps { get; init; }

    /// <summary>The reduced run: tiny tower, two tasks, small budget, few AdaMerging steps (each still overridable).</summary>
    public bool Quick { get; init; }

    /// <summary>BuiltZoo cache folder; null = the zoo's default under the amalgam cache.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Keep every merged model under &lt;Out&gt;/models/&lt;row id&gt;/ (default: merged into a temp folder, deleted after evaluation).</summary>
    public bool KeepModels { get; init; }

    /// <summary>Shows each stage's progress; null = silent.</summary>
    public IDemoProgress? Progress { get; init; }

    public bool IsText => Suite == TextSuite;
    public string EffectiveSize => IsText ? Encoder : Size ?? (Quick ? QuickSize : "small");
    public IReadOnlyList<string> EffectiveTasks => Tasks ?? (IsText ? (Quick ? QuickTextTasks : TextTasks.Names.ToArray()) : Quick ? QuickTasks : TinyTasks.Names.ToArray());
    public double EffectiveBudget => Budget ?? (Quick ? (IsText ? QuickTextBudget : QuickBudget) : 1.0);
    public int? EffectiveSteps => Steps ?? (Quick ? QuickSteps : IsText && !PaperSettings ? TextSteps : DefaultSteps);

    /// <summary>
    /// WUDI's Adam steps in a quick run (stated in the row); every other run uses the official 300 (one step is
    /// one m x n x n product per tensor: MiniLM's 8 tasks take about two minutes, the small vision zoo a second).
    /// </summary>
    public const int QuickWudiSteps = 10;

    /// <summary>Settings the demo passes explicitly to methods other than AdaMerging, by registry name (shown in the rows' --method column).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> MethodSettings =>
        Quick
            ? new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal)
            {
                ["wudi"] = new Dictionary<string, string>(StringComparer.Ordinal) { ["steps"] = QuickWudiSteps.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            }
            : new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);

    /// <summary>AdaMerging settings besides the steps that the demo passes explicitly (the text suite's reduced batches).</summary>
    public IReadOnlyDictionary<string, string> AdaMergingSettings =>
        IsText && !PaperSettings ? TextAdaMergingBatches : new Dictionary<string, string>();
}
