using Amalgam.Engine.Data.Npy;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Training;

/// <summary>
/// Samples for a model, one tensor per data input with the samples on the first axis, as the CLI
/// reads them: a <c>.npy</c> file (single-input models) or a <c>.safetensors</c> file with tensors
/// named after the model's inputs; labels from a <c>.npy</c> of int64. Owns its tensors.
/// </summary>
public sealed class SampleData : IDisposable
{
    private SampleData(IReadOnlyDictionary<string, Tensor> inputs, long count)
    {
        Inputs = inputs;
        Count = count;
    }

    /// <summary>Tensors by model input name, each [N, ...].</summary>
    public IReadOnlyDictionary<string, Tensor> Inputs { get; }

    /// <summary>The number of samples N.</summary>
    public long Count { get; }

    /// <summary>Reads <paramref name="path"/> and checks every tensor against the model's inputs (dtype, rank, fixed dims, same N).</summary>
    public static SampleData Load(OnnxModel model, string path)
    {
        var inputs = ModelInput.Of(model);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            string ext = Path.GetExtension(path).ToLowerInvariant();
            if (ext == ".npy")
            {
                if (inputs.Count != 1)
                    throw new BadInputException($"{path}: a .npy file feeds a single-input model, but {model.DisplayName} has inputs {string.Join(", ", inputs.Select(i => i.Name))}; use a .safetensors file with one tensor per input");
                tensors[inputs[0].Name] = NpyFile.Read(path, inputs[0].Name);
            }
            else if (ext == ".safetensors")
            {
                if (!File.Exists(path)) throw new BadInputException($"{path}: file not found");
                using var file = SafetensorsFile.Open(path);
                foreach (var input in inputs)
                {
                    if (!file.Contains(input.Name))
                        throw new BadInputException($"{path}: no tensor named '{input.Name}' (the model's inputs are {string.Join(", ", inputs.Select(i => i.Name))})");
                    using var mapped = file.Get(input.Name);
                    tensors[input.Name] = mapped.Clone(input.Name);
                }
            }
            else
            {
                throw new BadInputException($"{path}: data must be a .npy or .safetensors file");
            }

            long n = -1;
            foreach (var input in inputs)
            {
                var t = tensors[input.Name];
                if (t.DType != input.DType || !input.Fits(t.Shape))
                    throw new BadInputException($"{path}: '{input.Name}' is {t.DType.ShortName()} {Shapes.Format(t.Shape)}, the model expects {input.DType.ShortName()} {input.FormatDims()} (first axis = samples)");
                if (n >= 0 && t.Shape[0] != n)
                    throw new BadInputException($"{path}: '{input.Name}' has {t.Shape[0]} samples, the other inputs have {n}");
                n = t.Shape[0];
            }
            if (n <= 0) throw new BadInputException($"{path}: no samples (the first axis is 0)");
            return new SampleData(tensors, n);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Reads int64 labels [<paramref name="count"/>] from a .npy file, each in [0, <paramref name="classes"/>) when classes > 0.</summary>
    public static Tensor LoadLabels(string path, long count, long classes)
    {
        if (!Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase))
            throw new BadInputException($"{path}: labels must be a .npy file of int64");
        var labels = NpyFile.Read(path, "labels");
        try
        {
            if (labels.DType != DType.I64)
                throw new BadInputException($"{path}: labels are {labels.DType.ShortName()}, expected i64 (int64)");
            if (labels.Rank != 1 || labels.Shape[0] != count)
                throw new BadInputException($"{path}: labels have shape {Shapes.Format(labels.Shape)}, expected [{count}] (one per sample)");
            if (classes > 0)
            {
                var values = labels.Read<long>();
                for (int i = 0; i < values.Length; i++)
                    if (values[i] < 0 || values[i] >= classes)
                        throw new BadInputException($"{path}: label {values[i]} at index {i} is not a class of the model's output (0 to {classes - 1})");
            }
            return labels;
        }
        catch
        {
            labels.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var t in Inputs.Values) t.Dispose();
    }
}
