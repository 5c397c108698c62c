using Amalgam.Engine.Merging;
using Amalgam.Engine.Zoo;

namespace Amalgam.Engine.Demo;

/// <summary>Where the evaluation of one row is: models evaluated of the row's total.</summary>
public readonly record struct EvaluationProgress(string Row, int Done, int Total, TimeSpan Elapsed);

/// <summary>
/// Wraps each stage of a demo so a front end can show it (the CLI draws one progress bar per stage):
/// each method runs <c>work</c> once, passing a progress sink or null, and returns its result.
/// </summary>
public interface IDemoProgress
{
    BuiltZoo BuildZoo(Func<IProgress<ZooProgress>?, BuiltZoo> work);

    MergeResult Merge(string row, Func<IProgress<MergeProgress>?, MergeResult> work);

    T Evaluate<T>(string row, Func<IProgress<EvaluationProgress>?, T> work);

    /// <summary>A line worth showing between stages ("ties: merged in 0.41 s, average 71.3 %").</summary>
    void Message(string line);
}
