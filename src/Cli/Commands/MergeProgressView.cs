using System.Globalization;
using Amalgam.Engine.Merging;

namespace Amalgam.Cli.Commands;

/// <summary>`amalgam merge` progress: fraction of the bytes all passes read, tensors done, GB/s.</summary>
internal static class MergeProgressView
{
    public static T Run<T>(TextWriter error, Func<IProgress<MergeProgress>, T> work) => ProgressView.Run(error, "merge", Snapshot, work);

    internal static ProgressSnapshot Snapshot(MergeProgress p) =>
        new(p.Fraction, 1, p.Elapsed, Describe(p), Silent: p.Pass is "start" or "done") { Warning = p.Warning };

    internal static string Describe(MergeProgress p)
    {
        double seconds = Math.Max(p.Elapsed.TotalSeconds, 1e-3);
        if (p.Pass == "step") // a training stage (adamerging): steps, steps/s and the live loss
            return string.Create(CultureInfo.InvariantCulture,
                $"step {p.TensorsDone}/{p.TensorsTotal}, {p.TensorsDone / seconds:F2} steps/s{(p.Detail is null ? "" : ", " + p.Detail)}");
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.Pass}: {p.TensorsDone}/{p.TensorsTotal} tensors, {p.BytesRead / 1e9:F2} GB read, {p.BytesRead / 1e9 / seconds:F2} GB/s");
    }

    /// <summary>The plain-line view (stderr not a terminal).</summary>
    internal static IProgress<MergeProgress> PlainLines(TextWriter error) => new ProgressView.PlainLines<MergeProgress>(error, Snapshot);
}
