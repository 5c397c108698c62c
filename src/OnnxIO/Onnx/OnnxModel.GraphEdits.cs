using Amalgam.Kernels;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

public sealed partial class OnnxModel
{
    /// <summary>
    /// Makes intermediate values graph outputs, so a runtime returns them (e.g. activations for
    /// statistics). A value already an output is skipped. The output's type comes from the graph's
    /// value_info, inputs or initializers when known; otherwise the output carries only its name,
    /// which ONNX Runtime accepts and fills in by shape inference.
    /// </summary>
    public void AddOutputs(IEnumerable<string> valueNames)
    {
        var outputs = new HashSet<string>(Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        var produced = new HashSet<string>(Graph.Node.SelectMany(n => n.Output), StringComparer.Ordinal);
        foreach (var name in valueNames)
        {
            if (outputs.Contains(name)) continue;
            ValueInfoProto? info = Graph.ValueInfo.FirstOrDefault(v => v.Name == name)
                ?? Graph.Input.FirstOrDefault(v => v.Name == name);
            if (info is not null) info = info.Clone();
            else if (FindInitializer(name) is { } init) info = TensorValueInfo(init);
            else if (produced.Contains(name)) info = new ValueInfoProto { Name = name };
            else throw new BadInputException($"{DisplayName}: the graph has no value named '{name}'");
            Graph.Output.Add(info);
            outputs.Add(name);
        }
    }

    /// <summary>
    /// Turns initializers into graph inputs (typed with the initializer's element type and shape) so a
    /// runtime can be fed other weights without rewriting the model. With
    /// <paramref name="keepValuesAsDefaults"/> the initializers stay and act as the inputs' defaults
    /// (IR version 4 and later); otherwise they are removed.
    /// </summary>
    public void PromoteInitializersToInputs(IEnumerable<string> names, bool keepValuesAsDefaults = false)
    {
        var inputs = new HashSet<string>(Graph.Input.Select(i => i.Name), StringComparer.Ordinal);
        foreach (var name in names)
        {
            var init = GetInitializer(name);
            if (inputs.Add(name)) Graph.Input.Add(TensorValueInfo(init));
            if (!keepValuesAsDefaults) Graph.Initializer.Remove(init);
        }
    }

    /// <summary>Names of all values node outputs produce, in node order.</summary>
    public IReadOnlyList<string> NodeOutputNames() =>
        Graph.Node.SelectMany(n => n.Output).Where(n => n.Length > 0).ToList();

    private static ValueInfoProto TensorValueInfo(TensorProto t)
    {
        var shape = new TensorShapeProto();
        foreach (long d in t.Dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = t.Name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = t.DataType, Shape = shape } },
        };
    }
}
