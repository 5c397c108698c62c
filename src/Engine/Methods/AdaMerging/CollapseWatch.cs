namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// The diagnostics of one AdaMerging run: every measurement (step 0 first, the baseline of
/// <see cref="CollapseRule"/>) and the warnings raised, at most one per task (its first collapse).
/// </summary>
public sealed class CollapseWatch(double collapseShare, bool informationMaximisation = false)
{
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    /// <summary>The measurements so far, each with one entry per task in task order.</summary>
    public List<PredictionStats[]> History { get; } = [];

    public List<string> Warnings { get; } = [];

    /// <summary>
    /// For the progress line: the task of the latest measurement with the largest share on one
    /// class, e.g. "top class 53% mnist-inverted (step 100)"; null before any measurement.
    /// </summary>
    public string? Summary()
    {
        if (History.Count == 0 || History[^1].Length == 0) return null;
        var top = History[^1].MaxBy(s => s.TopShare)!;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"top class {100 * top.TopShare:F0}% {top.Task} (step {top.Step})");
    }

    /// <summary>Records a measurement; returns the warnings it raises (tasks not warned about before).</summary>
    public IReadOnlyList<string> Add(PredictionStats[] stats)
    {
        History.Add(stats);
        var raised = new List<string>();
        var baseline = History[0];
        for (int k = 0; k < stats.Length; k++)
        {
            if (_warned.Contains(stats[k].Task) || CollapseRule.Check(baseline[k], stats[k], collapseShare, informationMaximisation) is not { } warning) continue;
            _warned.Add(stats[k].Task);
            Warnings.Add(warning);
            raised.Add(warning);
        }
        return raised;
    }
}
