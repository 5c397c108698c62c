using System.Globalization;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Demo;

/// <summary>One merge the demo runs: a registered method with the few settings the demo sets explicitly.</summary>
public sealed record PlannedRow(string Id, string Name, string Method, IReadOnlyDictionary<string, string> Settings);

/// <summary>
/// The merge rows, taken from <see cref="MethodRegistry.All"/> at run time (in its order) so rows
/// appear as methods land. Every method runs at its defaults, except AdaMerging, which gives four
/// rows as in its paper: task-wise and layer-wise coefficients, each also on TIES-preprocessed task
/// vectors (AdaMerging++), then task-wise and layer-wise with objective=im (SHOT's information
/// maximisation, which resists collapse onto one class), and optionally a step count the demo states
/// under the table.
/// </summary>
public static class DemoPlan
{
    public const string AdaMerging = "adamerging";

    /// <summary>The papers' names for the methods (the registry name otherwise).</summary>
    private static readonly Dictionary<string, string> DisplayNames = new(StringComparer.Ordinal)
    {
        ["average"] = "Weight Averaging",
        ["task_arithmetic"] = "Task Arithmetic",
        ["ties"] = "TIES-Merging",
        ["dare_linear"] = "DARE (linear)",
        ["dare_ties"] = "DARE-TIES",
        ["breadcrumbs"] = "Model Breadcrumbs",
        ["pcb"] = "PCB-Merging",
        ["consensus"] = "Consensus (TALL masks)",
        ["regmean"] = "RegMean",
        ["fisher"] = "Fisher Merging",
        ["cat"] = "CAT Merging",
        ["tsv_m"] = "TSV-M",
        ["iso_c"] = "Iso-C",
        ["iso_cts"] = "Iso-CTS",
        ["wudi"] = "WUDI-Merging",
        ["emr"] = "EMR-Merging (a model per task)",
    };

    /// <param name="methods">Registry names to run (null = all registered); unknown names are a BadInputException listing the known ones.</param>
    /// <param name="steps">AdaMerging steps to pass explicitly; null = the method's default.</param>
    /// <param name="adaMerging">Further AdaMerging settings to pass explicitly (stated under the table).</param>
    /// <param name="others">Settings to pass to other methods, by registry name (stated in their rows).</param>
    public static IReadOnlyList<PlannedRow> Rows(IReadOnlyList<string>? methods, int? steps, IReadOnlyDictionary<string, string>? adaMerging = null,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? others = null)
    {
        var registered = MethodRegistry.All;
        if (methods is not null)
        {
            foreach (string m in methods)
                if (registered.All(s => s.Name != m))
                    throw new BadInputException($"--methods: unknown method '{m}' (known: {string.Join(", ", registered.Select(s => s.Name))})");
        }
        var rows = new List<PlannedRow>();
        foreach (var spec in registered)
        {
            if (methods is not null && !methods.Contains(spec.Name)) continue;
            if (spec.Name == AdaMerging) rows.AddRange(AdaMergingRows(spec, steps, adaMerging));
            else rows.Add(new PlannedRow(spec.Name, DisplayNames.GetValueOrDefault(spec.Name, spec.Name), spec.Name,
                others is not null && others.TryGetValue(spec.Name, out var set) ? new Dictionary<string, string>(set) : new Dictionary<string, string>()));
        }
        return rows;
    }

    /// <summary>
    /// Task-wise and layer-wise, plain and ++, then task-wise and layer-wise with objective=im when the
    /// method declares that choice (a user's extra settings apply to every row; objective=im is what
    /// makes the last two). The granularity parameter is the choice parameter
    /// offering a "task..." and a "layer..." value ("granularity" assumed when none is declared, so a
    /// mismatch shows as a failed row naming the parameter rather than a silently wrong run).
    /// </summary>
    internal static IEnumerable<PlannedRow> AdaMergingRows(MethodSpec spec, int? steps, IReadOnlyDictionary<string, string>? extra = null)
    {
        var choice = spec.Parameters.FirstOrDefault(p => p.Kind == ParameterKind.Choice
            && p.Choices.Any(c => c.StartsWith("task", StringComparison.Ordinal))
            && p.Choices.Any(c => c.StartsWith("layer", StringComparison.Ordinal)));
        string granularity = choice?.Name ?? "granularity";
        string taskWise = choice?.Choices.First(c => c.StartsWith("task", StringComparison.Ordinal)) ?? "task";
        string layerWise = choice?.Choices.First(c => c.StartsWith("layer", StringComparison.Ordinal)) ?? "layer";
        foreach (var (level, value) in new[] { ("task", taskWise), ("layer", layerWise) })
        {
            foreach (bool plusPlus in new[] { false, true })
            {
                var settings = new Dictionary<string, string>(StringComparer.Ordinal) { [granularity] = value };
                if (plusPlus) settings["ties_preprocess"] = "true";
                if (steps is int s) settings["steps"] = s.ToString(CultureInfo.InvariantCulture);
                foreach (var (key, setting) in extra ?? new Dictionary<string, string>()) settings[key] = setting;
                yield return new PlannedRow(
                    $"{AdaMerging}_{level}{(plusPlus ? "_ties" : "")}",
                    $"AdaMerging{(plusPlus ? "++" : "")} ({level}-wise)",
                    spec.Name,
                    settings);
            }
        }
        var objective = spec.Parameters.FirstOrDefault(p => p.Name == "objective" && p.Kind == ParameterKind.Choice && p.Choices.Contains("im"));
        if (objective is null) yield break;
        foreach (var (level, value) in new[] { ("task", taskWise), ("layer", layerWise) })
        {
            var settings = new Dictionary<string, string>(StringComparer.Ordinal) { [granularity] = value };
            if (steps is int s) settings["steps"] = s.ToString(CultureInfo.InvariantCulture);
            foreach (var (key, setting) in extra ?? new Dictionary<string, string>()) settings[key] = setting;
            settings[objective.Name] = "im";
            yield return new PlannedRow($"{AdaMerging}_{level}_im", $"AdaMerging ({level}-wise, IM)", spec.Name, settings);
        }
    }

    /// <summary>Whether the row's method needs `--data` (its spec's <see cref="MethodSpec.NeedsData"/>).</summary>
    public static bool NeedsData(PlannedRow row) => MethodRegistry.Get(row.Method).NeedsData;

    /// <summary>The method's declared default of a parameter, or null.</summary>
    public static string? DefaultOf(string method, string parameter) =>
        MethodRegistry.All.FirstOrDefault(s => s.Name == method)?.Find(parameter)?.Default;
}
