namespace Amalgam.Engine.Zoo.Text;

/// <summary>
/// What text zoo to build (or load from the cache): a real pretrained encoder (<see cref="Encoder"/>),
/// a linear probe per task on its frozen sentence features, and one fine-tuned encoder per task.
/// Deterministic for <see cref="Seed"/>; cached under <see cref="CacheDir"/> keyed by every option.
/// </summary>
public sealed record TextZooOptions
{
    /// <summary>Where zoos are cached; null = `&lt;amalgam cache&gt;/zoo`.</summary>
    public string? CacheDir { get; init; }

    /// <summary>The pretrained encoder: "minilm" (default) or "arctic" (see <see cref="Amalgam.Engine.Text.EncoderFiles"/>).</summary>
    public string Encoder { get; init; } = "minilm";

    /// <summary>Task names (<see cref="Amalgam.Engine.Data.Text.TextTasks"/>), in task order; null = all eight.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Scales the probe and fine-tuning budgets (1 = the defaults of <see cref="TextZooBudget"/>).</summary>
    public double Budget { get; init; } = 1.0;

    /// <summary>Worker threads (0 = all cores); the files do not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>Test examples written per task (the first ones of the task's fixed test split); null = all of it.</summary>
    public int? TestSamples { get; init; } = 1000;

    public IProgress<ZooProgress>? Progress { get; init; }
}
