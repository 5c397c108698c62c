using System.Diagnostics;

namespace Amalgam.Engine.Methods.Cat;

/// <summary>Wall time of CAT's phases, for the report and the end-to-end benchmark.</summary>
public sealed class CatTimings
{
    public Stopwatch Features { get; } = new();
    public Stopwatch Grams { get; } = new();
    public Stopwatch Eigen { get; } = new();
    public Stopwatch Projections { get; } = new();
}
