using System.Globalization;
using Amalgam.Engine.Demo;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Zoo;

namespace Amalgam.Cli.Commands;

/// <summary>
/// `amalgam demo` progress on stderr: one bar per stage (zoo build, each merge, each evaluation)
/// when stderr is a terminal, plain lines otherwise (<see cref="ProgressView"/>), and a line after
/// each stage with its result.
/// </summary>
internal sealed class DemoProgressView(TextWriter error) : IDemoProgress
{
    public BuiltZoo BuildZoo(Func<IProgress<ZooProgress>?, BuiltZoo> work) => ProgressView.Run(error, "zoo", ZooSnapshot, work);

    public MergeResult Merge(string row, Func<IProgress<MergeProgress>?, MergeResult> work) =>
        ProgressView.Run(error, row, (MergeProgress p) => MergeSnapshot(row, p), work);

    public T Evaluate<T>(string row, Func<IProgress<EvaluationProgress>?, T> work) => ProgressView.Run(error, row, EvaluationSnapshot, work);

    public void Message(string line) => error.WriteLine($"amalgam: demo: {line}");

    internal static ProgressSnapshot ZooSnapshot(ZooProgress p)
    {
        string loss = p.Loss is double l ? string.Create(CultureInfo.InvariantCulture, $", loss {l:F4}") : "";
        return new(p.Done, p.Total, p.Elapsed, $"zoo {p.Stage}: {p.Done}/{p.Total} steps{loss}");
    }

    internal static ProgressSnapshot MergeSnapshot(string row, MergeProgress p)
    {
        var s = MergeProgressView.Snapshot(p);
        // MergeProgressView shows the detail of some passes itself (adamerging's loss); add it only when missing.
        string detail = p.Detail is { Length: > 0 } d && !s.Text.Contains(d, StringComparison.Ordinal) ? ", " + d : "";
        return s with { Text = $"merge {row}: {s.Text}{detail}" };
    }

    internal static ProgressSnapshot EvaluationSnapshot(EvaluationProgress p) =>
        new(p.Done, p.Total, p.Elapsed, $"evaluate {p.Row}: {p.Done}/{p.Total} tasks", Silent: p.Done >= p.Total);
}
