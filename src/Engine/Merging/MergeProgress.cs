namespace Amalgam.Engine.Merging;

/// <summary>
/// Where a merge is: <paramref name="Pass"/> names the current pass ("prepass 1", "merge", "copy"),
/// with the tensors done of all passes together and the bytes read so far and in total.
/// </summary>
public readonly record struct MergeProgress(string Pass, int TensorsDone, int TensorsTotal, long BytesRead, long BytesTotal, TimeSpan Elapsed)
{
    /// <summary>A short live value of the current stage (e.g. "loss 0.4213"), shown after the bar; null = none.</summary>
    public string? Detail { get; init; }

    /// <summary>A one-line warning to show once, as its own line (e.g. a task collapsing in AdaMerging); null = none.</summary>
    public string? Warning { get; init; }

    /// <summary>Fraction of the bytes read, 0..1.</summary>
    public double Fraction => BytesTotal == 0 ? (TensorsTotal == 0 ? 1 : (double)TensorsDone / TensorsTotal) : Math.Min(1, (double)BytesRead / BytesTotal);
}
