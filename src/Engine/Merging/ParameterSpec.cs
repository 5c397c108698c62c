using System.Globalization;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

public enum ParameterKind { Float, Int, Bool, Choice, FloatPerTask }

/// <summary>
/// One method parameter as users set it (`--set name=value`, YAML), with its default and valid
/// range. The CLI's --help, the YAML reader and the report all read these declarations.
/// </summary>
public sealed record ParameterSpec(string Name, ParameterKind Kind, string Default, string Description)
{
    public double? Min { get; init; }
    public double? Max { get; init; }
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }
    public IReadOnlyList<string> Choices { get; init; } = [];

    public static ParameterSpec Float(string name, double @default, string description, double? min = null, double? max = null, bool minExclusive = false, bool maxExclusive = false) =>
        new(name, ParameterKind.Float, @default.ToString("R", CultureInfo.InvariantCulture), description) { Min = min, Max = max, MinExclusive = minExclusive, MaxExclusive = maxExclusive };

    public static ParameterSpec Int(string name, long @default, string description, long? min = null, long? max = null) =>
        new(name, ParameterKind.Int, @default.ToString(CultureInfo.InvariantCulture), description) { Min = min, Max = max };

    /// <summary>An integer that also accepts the given words (e.g. CAT's c = rank or "positive"); read with MergeSettings.Text.</summary>
    public static ParameterSpec IntOrWord(string name, long @default, string description, long? min, params string[] words) =>
        new(name, ParameterKind.Int, @default.ToString(CultureInfo.InvariantCulture), description) { Min = min, Choices = words };

    public static ParameterSpec Bool(string name, bool @default, string description) =>
        new(name, ParameterKind.Bool, @default ? "true" : "false", description);

    public static ParameterSpec Choice(string name, string @default, string description, params string[] choices) =>
        new(name, ParameterKind.Choice, @default, description) { Choices = choices };

    /// <summary>One float per task (e.g. `weights`); the default applies to every task.</summary>
    public static ParameterSpec PerTask(string name, double @default, string description, double? min = null) =>
        new(name, ParameterKind.FloatPerTask, @default.ToString("R", CultureInfo.InvariantCulture), description) { Min = min };

    /// <summary>Range text for --help, e.g. "(0, 1]".</summary>
    public string RangeText => Kind switch
    {
        ParameterKind.Choice => string.Join("|", Choices),
        ParameterKind.Bool => "true|false",
        ParameterKind.Int when Choices.Count > 0 => $"[{Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}]|{string.Join("|", Choices)}",
        _ when Min is null && Max is null => "",
        _ => $"{(MinExclusive ? "(" : "[")}{Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}{(MaxExclusive ? ")" : "]")}",
    };

    /// <summary>Checks a numeric value against the range; throws a one-line error naming the option.</summary>
    internal void CheckRange(double v, string method)
    {
        bool ok = !double.IsNaN(v)
            && (Min is not double lo || (MinExclusive ? v > lo : v >= lo))
            && (Max is not double hi || (MaxExclusive ? v < hi : v <= hi));
        if (!ok) throw new BadInputException($"{method}: {Name}={v.ToString(CultureInfo.InvariantCulture)} is outside {RangeText}");
    }
}
