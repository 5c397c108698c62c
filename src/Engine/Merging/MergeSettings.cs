using System.Globalization;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// A method's effective parameter values for one merge: user values (`--set`, YAML) parsed and
/// checked against the declarations, presets applied, defaults filled in. Unknown names and bad
/// values are one-line <see cref="BadInputException"/>s naming the option.
/// </summary>
public sealed class MergeSettings
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double[]> _perTask = new(StringComparer.Ordinal);

    public MethodSpec Method { get; }
    public int TaskCount { get; }
    public ulong Seed { get; }

    /// <param name="values">name -> value text, as the user wrote them.</param>
    /// <param name="perTask">per-task values (YAML `models[k].parameters`), name -> one entry per task (null = not set for that task).</param>
    public MergeSettings(MethodSpec method, int taskCount, IReadOnlyDictionary<string, string> values, ulong seed = 0,
        IReadOnlyDictionary<string, double?[]>? perTask = null)
    {
        Method = method;
        TaskCount = taskCount;
        Seed = seed;
        foreach (var (name, text) in values)
        {
            var spec = method.Find(name) ?? throw new BadInputException(
                $"{method.Name}: unknown parameter '{name}' (known: {string.Join(", ", method.Parameters.Select(p => p.Name))})");
            _values[name] = Normalise(spec, text);
        }
        // Presets imply defaults for parameters the user did not set.
        foreach (var (preset, byValue) in method.Presets)
        {
            string chosen = _values.GetValueOrDefault(preset) ?? method.Find(preset)!.Default;
            if (!byValue.TryGetValue(chosen, out var implied)) continue;
            foreach (var (name, text) in implied) _values.TryAdd(name, text);
        }
        foreach (var spec in method.Parameters)
        {
            _values.TryAdd(spec.Name, spec.Default);
            if (spec.Kind == ParameterKind.FloatPerTask) _perTask[spec.Name] = ResolvePerTask(spec, perTask?.GetValueOrDefault(spec.Name));
        }
    }

    public double Float(string name) => double.Parse(Value(name, ParameterKind.Float), CultureInfo.InvariantCulture);
    public long Int(string name) => long.Parse(Value(name, ParameterKind.Int), CultureInfo.InvariantCulture);
    /// <summary>The value as text: an integer parameter's word (see <see cref="ParameterSpec.IntOrWord"/>) or its digits.</summary>
    public string Text(string name) => Method.Find(name) is not null ? _values[name] : throw Unknown(name);
    public bool Bool(string name) => Value(name, ParameterKind.Bool) == "true";
    public string Choice(string name) => Value(name, ParameterKind.Choice);
    public IReadOnlyList<double> PerTask(string name) => _perTask.TryGetValue(name, out var v) ? v : throw Unknown(name);

    /// <summary>Every effective value as text (per-task values comma-separated), in declaration order, for reports.</summary>
    public IEnumerable<(string Name, string Value)> Effective() => Method.Parameters.Select(p => (p.Name,
        p.Kind == ParameterKind.FloatPerTask ? string.Join(",", _perTask[p.Name].Select(v => v.ToString("R", CultureInfo.InvariantCulture))) : _values[p.Name]));

    private string Value(string name, ParameterKind kind)
    {
        var spec = Method.Find(name) ?? throw Unknown(name);
        if (spec.Kind != kind) throw new InvalidOperationException($"{Method.Name}: parameter '{name}' is {spec.Kind}, not {kind}");
        return _values[name];
    }

    private InvalidOperationException Unknown(string name) => new($"{Method.Name} declares no parameter '{name}'");

    private string Normalise(ParameterSpec spec, string text)
    {
        text = text.Trim();
        string Bad(string what) => throw new BadInputException($"{Method.Name}: {spec.Name}={text} is not {what}");
        switch (spec.Kind)
        {
            case ParameterKind.Float:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) || !double.IsFinite(f)) return Bad("a number");
                spec.CheckRange(f, Method.Name);
                return f.ToString("R", CultureInfo.InvariantCulture);
            case ParameterKind.Int:
                if (spec.Choices.Contains(text)) return text; // a word the integer parameter also accepts
                if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long i)) return Bad("an integer");
                spec.CheckRange(i, Method.Name);
                return i.ToString(CultureInfo.InvariantCulture);
            case ParameterKind.Bool:
                return text.ToLowerInvariant() switch { "true" or "1" or "yes" => "true", "false" or "0" or "no" => "false", _ => Bad("true or false") };
            case ParameterKind.Choice:
                return spec.Choices.Contains(text) ? text : Bad($"one of {spec.RangeText}");
            case ParameterKind.FloatPerTask:
                var parts = text.Split(',');
                if (parts.Length != 1 && parts.Length != TaskCount) return Bad($"one number or {TaskCount} comma-separated numbers (one per task)");
                foreach (string p in parts)
                {
                    if (!double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v)) return Bad("a list of numbers");
                    spec.CheckRange(v, Method.Name);
                }
                return text;
            default:
                throw new ArgumentOutOfRangeException(nameof(spec));
        }
    }

    private double[] ResolvePerTask(ParameterSpec spec, double?[]? perModel)
    {
        string[] parts = _values[spec.Name].Split(',');
        var result = new double[TaskCount];
        for (int k = 0; k < TaskCount; k++)
        {
            result[k] = double.Parse(parts.Length == 1 ? parts[0] : parts[k], CultureInfo.InvariantCulture);
            if (perModel is not null && k < perModel.Length && perModel[k] is double v)
            {
                spec.CheckRange(v, Method.Name);
                result[k] = v;
            }
        }
        return result;
    }
}
