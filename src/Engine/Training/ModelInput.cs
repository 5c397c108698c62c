using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Onnx;

namespace Amalgam.Engine.Training;

/// <summary>
/// A data input of an ONNX model (a graph input that is not an initializer): its element type and
/// its dims, -1 where the model leaves a dimension symbolic (the batch axis, usually).
/// </summary>
public sealed record ModelInput(string Name, DType DType, long[] Dims)
{
    /// <summary>The dims with symbolic ones written as N (first axis) or ?, e.g. [N, 3, 28, 28].</summary>
    public string FormatDims() =>
        "[" + string.Join(", ", Dims.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : i == 0 ? "N" : "?")) + "]";

    /// <summary>
    /// A model exported with a fixed batch axis (torch.onnx.export without dynamic_axes) runs only at
    /// that batch size: it replaces the requested batch size, and the samples must fill whole batches.
    /// Null when the batch axis is symbolic.
    /// </summary>
    public static int? FixedBatch(OnnxModel model, string dataPath, long samples)
    {
        var fixedDims = Of(model).Select(i => i.Dims[0]).Where(d => d > 0).Distinct().ToList();
        if (fixedDims.Count == 0) return null;
        if (fixedDims.Count > 1) throw new BadInputException($"{model.DisplayName}: the inputs fix different batch sizes ({string.Join(", ", fixedDims)})");
        long b = fixedDims[0];
        if (samples % b != 0)
            throw new BadInputException($"{dataPath}: {samples} samples, but {model.DisplayName} has a fixed batch size of {b}; give a multiple of {b}");
        return checked((int)b);
    }

    /// <summary>The model's data inputs in graph order; BadInputException for non-tensor or unsupported types.</summary>
    public static IReadOnlyList<ModelInput> Of(OnnxModel model)
    {
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var list = new List<ModelInput>();
        foreach (var input in model.Graph.Input)
        {
            if (initializers.Contains(input.Name)) continue;
            var type = input.Type?.TensorType ?? throw new BadInputException($"{model.DisplayName}: input '{input.Name}' is not a tensor");
            if (!OnnxDTypes.TryToDType(type.ElemType, out var dtype))
                throw new BadInputException($"{model.DisplayName}: input '{input.Name}' has element type {OnnxDTypes.OnnxName(type.ElemType)}, which is not supported");
            var dims = type.Shape?.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1L).ToArray()
                ?? throw new BadInputException($"{model.DisplayName}: input '{input.Name}' has no shape (its rank is needed)");
            list.Add(new ModelInput(input.Name, dtype, dims));
        }
        if (list.Count == 0) throw new BadInputException($"{model.DisplayName}: the model has no data inputs");
        return list;
    }

    /// <summary>
    /// The dims a batch of <paramref name="rows"/> samples of <paramref name="data"/> is fed with: the
    /// model's own when it fixes every dim after the batch axis (the data then only needs as many
    /// values per sample), else the data's (a symbolic sequence axis takes the data's length).
    /// </summary>
    public long[] BatchShape(Tensor data, long rows)
    {
        var shape = Dims.Skip(1).All(d => d >= 0) ? Dims.ToArray() : data.Shape.ToArray();
        shape[0] = rows;
        return shape;
    }

    /// <summary>True when a tensor of <paramref name="shape"/> (first axis = samples) fits this input.</summary>
    public bool Fits(ReadOnlySpan<long> shape)
    {
        if (shape.Length != Dims.Length || shape.Length == 0) return false;
        for (int i = 1; i < shape.Length; i++)
            if (Dims[i] >= 0 && Dims[i] != shape[i]) return false;
        return true;
    }
}
