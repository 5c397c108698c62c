using System.Globalization;
using Amalgam.Engine.Training;

namespace Amalgam.Cli.Commands;

/// <summary>`amalgam grad` progress: samples done, samples/s.</summary>
internal static class GradProgressView
{
    public static T Run<T>(TextWriter error, Func<IProgress<GradProgress>, T> work) => ProgressView.Run(error, "grad", Snapshot, work);

    internal static ProgressSnapshot Snapshot(GradProgress p) =>
        new(p.SamplesDone, p.SamplesTotal, p.Elapsed, Describe(p), Silent: p.SamplesDone >= p.SamplesTotal);

    internal static string Describe(GradProgress p) =>
        string.Create(CultureInfo.InvariantCulture, $"grad: {p.SamplesDone}/{p.SamplesTotal} samples, {p.SamplesDone / Math.Max(p.Elapsed.TotalSeconds, 1e-3):F1} samples/s");

    /// <summary>The plain-line view (stderr not a terminal).</summary>
    internal static IProgress<GradProgress> PlainLines(TextWriter error) => new ProgressView.PlainLines<GradProgress>(error, Snapshot);
}
