using System.Globalization;
using Amalgam.Engine.Merging;
using Amalgam.Kernels;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Amalgam.Engine.Config;

/// <summary>
/// A merge described in YAML, in mergekit's shape plus our additions:
/// <code>
/// merge_method: ties
/// base_model: base.safetensors
/// models:
///   - model: a.safetensors
///     parameters: {weight: 0.5}
///   - model: b.safetensors
/// parameters: {k: 0.2, lambda: 1.0}
/// dtype: bfloat16        # float32 | float16 | bfloat16 (output dtype, safetensors only)
/// private: '^head\.'     # ours: task-private parameters
/// seed: 42               # ours
/// out: merged.safetensors  # ours; --out overrides
/// </code>
/// Relative paths are resolved against the YAML file's folder. A model entry equal to base_model is
/// skipped (mergekit configs often list the base among the models). Unknown keys are errors naming
/// the key and line.
/// </summary>
public sealed class MergeConfig
{
    public required string Method { get; init; }
    public required string Base { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, double?[]> PerTask { get; init; } = new Dictionary<string, double?[]>();
    public string? Private { get; init; }
    public ulong Seed { get; init; }
    public DType? OutputDType { get; init; }
    public string? Out { get; init; }

    private static readonly string[] TopKeys = ["merge_method", "base_model", "models", "parameters", "dtype", "private", "seed", "out"];

    /// <summary>The request this config describes, writing to <paramref name="outOverride"/> when given.</summary>
    public MergeRequest ToRequest(string? outOverride = null) => new()
    {
        Method = Method,
        Base = Base,
        Models = Models,
        Out = outOverride ?? Out ?? throw new BadInputException("no output: give --out or 'out' in the config"),
        Set = Parameters,
        PerTask = PerTask,
        Private = Private,
        Seed = Seed,
        OutputDType = OutputDType,
    };

    public static MergeConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read config ({e.Message})", e);
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Parse(text, folder, path);
    }

    /// <summary>Parses YAML text; <paramref name="folder"/> resolves relative paths, <paramref name="file"/> names it in errors.</summary>
    public static MergeConfig Parse(string text, string folder, string file)
    {
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new BadInputException($"{file}: not valid YAML at line {e.Start.Line}: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        if (yaml.Documents.Count != 1 || yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new BadInputException($"{file}: expected one YAML mapping (merge_method, base_model, models, ...)");
        var reader = new Reader(file, folder);
        foreach (var (key, _) in root.Children)
        {
            string k = reader.Scalar(key, "key");
            if (!TopKeys.Contains(k)) throw reader.Bad(key, $"unknown key '{k}' (known: {string.Join(", ", TopKeys)})");
        }
        string method = reader.Scalar(reader.Required(root, "merge_method"), "merge_method");
        string @base = reader.PathOf(reader.Required(root, "base_model"), "base_model");
        var models = new List<string>();
        var perModel = new List<Dictionary<string, double>>();
        if (reader.Required(root, "models") is not YamlSequenceNode list || list.Children.Count == 0)
            throw new BadInputException($"{file}: 'models' must be a non-empty list of {{model: path, parameters: {{...}}}}");
        for (int i = 0; i < list.Children.Count; i++)
        {
            var (model, parameters) = reader.ModelEntry(list.Children[i], i);
            if (Same(model, @base)) continue;
            models.Add(model);
            perModel.Add(parameters);
        }
        if (models.Count == 0) throw new BadInputException($"{file}: 'models' lists no model other than base_model");
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Optional(root, "parameters") is { } ps)
        {
            if (ps is not YamlMappingNode map) throw reader.Bad(ps, "'parameters' must be a mapping of name: value");
            foreach (var (k, v) in map.Children) values[reader.Scalar(k, "parameter name")] = reader.ValueText(v, "parameters");
        }
        var perTask = new Dictionary<string, double?[]>(StringComparer.Ordinal);
        for (int k = 0; k < perModel.Count; k++)
            foreach (var (name, v) in perModel[k])
            {
                if (!perTask.TryGetValue(name, out var arr)) perTask[name] = arr = new double?[models.Count];
                arr[k] = v;
            }
        return new MergeConfig
        {
            Method = method,
            Base = @base,
            Models = models,
            Parameters = values,
            PerTask = perTask,
            Private = Optional(root, "private") is { } pr ? reader.Scalar(pr, "private") : null,
            Seed = Optional(root, "seed") is { } s ? reader.Seed(s) : 0,
            OutputDType = Optional(root, "dtype") is { } d ? reader.DTypeOf(d) : null,
            Out = Optional(root, "out") is { } o ? reader.PathOf(o, "out") : null,
        };
    }

    private static bool Same(string a, string b) => string.Equals(Path.GetFullPath(a).TrimEnd('/'), Path.GetFullPath(b).TrimEnd('/'), StringComparison.Ordinal);

    private static YamlNode? Optional(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    /// <summary>Node readers that turn every problem into a one-line error naming the file, line and key.</summary>
    private sealed class Reader(string file, string folder)
    {
        public BadInputException Bad(YamlNode node, string what) => new($"{file}: line {node.Start.Line}: {what}");

        public YamlNode Required(YamlMappingNode map, string key) =>
            Optional(map, key) ?? throw new BadInputException($"{file}: missing '{key}'");

        public string Scalar(YamlNode node, string what) =>
            node is YamlScalarNode { Value: { } v } ? v : throw Bad(node, $"{what} must be a single value");

        public string PathOf(YamlNode node, string what)
        {
            string p = Scalar(node, what);
            if (p.Length == 0) throw Bad(node, $"{what} is empty");
            return Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(folder, p));
        }

        /// <summary>A parameter value: a scalar, or a list of numbers (one per task), as `--set` text.</summary>
        public string ValueText(YamlNode node, string where) => node switch
        {
            YamlScalarNode { Value: { } v } => v,
            YamlSequenceNode seq => string.Join(",", seq.Children.Select(c => Scalar(c, where + " list entry"))),
            _ => throw Bad(node, $"{where}: value must be a number, word or list of numbers"),
        };

        public (string Model, Dictionary<string, double> Parameters) ModelEntry(YamlNode node, int i)
        {
            if (node is YamlScalarNode) return (PathOf(node, $"models[{i}]"), new());
            if (node is not YamlMappingNode map) throw Bad(node, $"models[{i}] must be {{model: path, parameters: {{...}}}}");
            foreach (var (k, _) in map.Children)
            {
                string key = Scalar(k, "key");
                if (key is not ("model" or "parameters")) throw Bad(k, $"models[{i}]: unknown key '{key}' (known: model, parameters)");
            }
            string model = PathOf(Required(map, "model"), $"models[{i}].model");
            var parameters = new Dictionary<string, double>(StringComparer.Ordinal);
            if (Optional(map, "parameters") is { } ps)
            {
                if (ps is not YamlMappingNode pm) throw Bad(ps, $"models[{i}].parameters must be a mapping");
                foreach (var (k, v) in pm.Children)
                {
                    string name = Scalar(k, "parameter name");
                    // mergekit's per-model `weight` is our per-task `weights`.
                    if (name == "weight") name = "weights";
                    string text = Scalar(v, $"models[{i}].parameters.{name}");
                    if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || !double.IsFinite(x))
                        throw Bad(v, $"models[{i}].parameters.{name}={text} is not a number");
                    parameters[name] = x;
                }
            }
            return (model, parameters);
        }

        public ulong Seed(YamlNode node)
        {
            string s = Scalar(node, "seed");
            return ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v : throw Bad(node, $"seed={s} is not a non-negative integer");
        }

        public DType DTypeOf(YamlNode node) => Scalar(node, "dtype") switch
        {
            "float32" or "fp32" or "f32" => DType.F32,
            "float16" or "fp16" or "f16" => DType.F16,
            "bfloat16" or "bf16" => DType.BF16,
            var s => throw Bad(node, $"dtype={s} is not float32, float16 or bfloat16"),
        };
    }
}
