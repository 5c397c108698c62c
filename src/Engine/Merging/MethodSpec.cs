namespace Amalgam.Engine.Merging;

/// <summary>
/// A merge method as the registry declares it: its name (as in `--method`), what it does, its
/// parameters with defaults, optional presets (a choice parameter such as `compat` whose value
/// changes other parameters' defaults), and a factory for the math.
/// </summary>
public sealed record MethodSpec(string Name, string Description, IReadOnlyList<ParameterSpec> Parameters, Func<MergeSettings, MergeMethod> Create)
{
    /// <summary>
    /// preset parameter -> its value -> defaults it implies for other parameters. Resolution order
    /// of a value: set by the user, else implied by a preset, else the declared default.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> Presets { get; init; }
        = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>();

    /// <summary>True for data-dependent methods (they need one `--data` file per task); mirrors <see cref="MergeMethod.NeedsData"/>.</summary>
    public bool NeedsData { get; init; }

    public ParameterSpec? Find(string name) => Parameters.FirstOrDefault(p => p.Name == name);
}
