using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// A model input or output as ORT sees it. <see cref="Shape"/> has -1 for a dimension that is not fixed;
/// <see cref="SymbolicDims"/> holds its name ("batch") or "" when the model gives none (and "" for fixed dims).
/// </summary>
internal sealed record TensorInfo(
    string Name,
    OnnxValueKind Kind,
    OnnxElementType ElementType,
    IReadOnlyList<long> Shape,
    IReadOnlyList<string> SymbolicDims)
{
    /// <summary>Our dtype for the element type, or null if our tensors cannot hold it.</summary>
    public DType? DType => ElementType.TryToDType(out var d) ? d : null;

    public override string ToString()
    {
        var dims = new string[Shape.Count];
        for (int i = 0; i < dims.Length; i++)
            dims[i] = Shape[i] >= 0 ? Shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture)
                : SymbolicDims[i].Length > 0 ? SymbolicDims[i] : "?";
        return $"{Name}: {ElementType.DisplayName()} [{string.Join(", ", dims)}]";
    }
}
