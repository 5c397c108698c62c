namespace Amalgam.Engine.Zoo;

/// <summary>
/// What model zoo to build (or load from the cache): a small ViT tower "pretrained" by rotation
/// prediction on MNIST + Fashion-MNIST training images, a linear-probe head per task, and one
/// fine-tuned model per task. Deterministic for <see cref="Seed"/>; cached under <see cref="CacheDir"/>
/// keyed by every option, so a second run with the same options reuses it.
/// </summary>
public sealed record ZooOptions
{
    /// <summary>Where zoos are cached; null = `&lt;amalgam cache&gt;/zoo`.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Tower size preset: "tiny" (CI), "small" (default, about 0.2-0.5M parameters), "base" (larger).</summary>
    public string Size { get; init; } = "small";

    /// <summary>Task names (TinyTasks), in task order; null = all eight.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Scales the training budgets (pretraining, probes, fine-tuning): 1 = the size's defaults; a reduced demo uses less.</summary>
    public double Budget { get; init; } = 1.0;

    /// <summary>Worker threads for training (0 = all cores).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Test images written per task (a seeded subset of the task's test split, or all of it when the
    /// split is smaller); null = the whole split. Bounds the demo's evaluation and data-dependent merges.
    /// </summary>
    public int? TestSamples { get; init; } = 2000;

    public IProgress<ZooProgress>? Progress { get; init; }
}

/// <summary>Where a zoo build is: Stage = "pretrain", "probe &lt;task&gt;", "finetune &lt;task&gt;"; Done/Total in the stage's steps.</summary>
public readonly record struct ZooProgress(string Stage, long Done, long Total, double? Loss, TimeSpan Elapsed);
