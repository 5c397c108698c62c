using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;
using Onnx;

namespace Amalgam.Engine.Training;

/// <summary>
/// `amalgam grad` as a library call: validates the request (one-line BadInputException naming the
/// file or option), computes <see cref="MeanGradient"/>, writes the gradients as safetensors named
/// like the initializers (temp file, then rename; nothing is written when anything fails).
/// </summary>
public static class GradRunner
{
    public static GradResult Run(GradRequest request)
    {
        var clock = Stopwatch.StartNew();
        if (request.BatchSize < 1) throw new BadInputException($"--batch-size {request.BatchSize}: must be at least 1");
        if (request.Threads < 0) throw new BadInputException($"--threads {request.Threads}: must be at least 1");
        CheckOut(request.Out);
        if (request.Loss == GradientLoss.CrossEntropy && request.Labels is null)
            throw new BadInputException("--labels is required with --loss xent");
        if (request.Loss != GradientLoss.CrossEntropy && request.Labels is not null)
            throw new BadInputException($"--labels {request.Labels}: labels are only used with --loss xent");
        if (!File.Exists(request.Model)) throw new BadInputException($"{request.Model}: file not found");
        if (!request.Model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new BadInputException($"{request.Model}: --model must be an .onnx file");

        var model = OnnxModel.Load(request.Model);
        var parameters = SelectParameters(model, request.Params);
        using var data = SampleData.Load(model, request.Data);
        using var labels = request.Labels is null ? null : SampleData.LoadLabels(request.Labels, data.Count, OutputClasses(model));
        int batchSize = ModelInput.FixedBatch(model, request.Data, data.Count) ?? request.BatchSize;
        using var result = MeanGradient.Compute(model, data.Inputs, labels, request.Loss, parameters, batchSize, request.Threads, request.Progress, request.Device);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "amalgam-grad",
            ["loss"] = request.Loss.ToString(),
            ["samples"] = data.Count.ToString(CultureInfo.InvariantCulture),
            ["mean_loss"] = result.Loss.ToString("R", CultureInfo.InvariantCulture),
        };
        SafetensorsWriter.WriteAll(request.Out, parameters.Select(p => result.Gradients[p]), metadata);
        long elements = parameters.Sum(p => result.Gradients[p].ElementCount);
        return new GradResult(data.Count, parameters.Count, elements, result.Loss, clock.Elapsed.TotalSeconds, request.Out);
    }

    /// <summary>Float initializers whose name matches <paramref name="regex"/> (all float ones when null), in file order.</summary>
    public static List<string> SelectParameters(OnnxModel model, string? regex)
    {
        Regex? pattern = null;
        if (regex is not null)
        {
            if (regex.Length == 0) throw new BadInputException("--params: empty regex");
            try { pattern = new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException e) { throw new BadInputException($"--params: '{regex}' is not a valid regex ({e.Message.ReplaceLineEndings(" ")})", e); }
        }
        var all = model.ListInitializers();
        var chosen = all.Where(i => i.DType is DType.F32 or DType.F64 && (pattern?.IsMatch(i.Name) ?? true)).Select(i => i.Name).ToList();
        if (chosen.Count == 0)
            throw new BadInputException(pattern is null
                ? $"{model.DisplayName}: the model has no float initializers to differentiate"
                : $"--params '{regex}': matches no float initializer of {model.DisplayName}");
        var dtypes = chosen.Select(n => all.First(i => i.Name == n).DType).Distinct().ToList();
        if (dtypes.Count > 1)
            throw new BadInputException($"--params: the chosen initializers mix f32 and f64; choose one float type");
        return chosen;
    }

    /// <summary>The last dim of the model's only output when fixed, else 0 (unknown).</summary>
    internal static long OutputClasses(OnnxModel model)
    {
        if (model.Graph.Output.Count != 1) return 0;
        var dims = model.Graph.Output[0].Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count == 0) return 0;
        var last = dims[^1];
        return last.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? last.DimValue : 0;
    }

    private static void CheckOut(string path)
    {
        if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new BadInputException($"--out {path}: expected a .safetensors file");
        AtomicFile.RequireFileInExistingFolder("--out", path, "a .safetensors");
    }
}
