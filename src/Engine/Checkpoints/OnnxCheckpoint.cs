using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Checkpoints;

/// <summary>
/// The initializers (stored weights) of an ONNX model's main graph as an <see cref="ICheckpoint"/>,
/// inline or in external data. <see cref="Load"/> gives a read-only view of the mapped model file or external
/// data file where the values lie in it (as a safetensors checkpoint does), else a fresh copy. The model itself is
/// exposed for ONNX outputs, which are this model with merged initializers swapped in.
/// </summary>
public sealed class OnnxCheckpoint : ICheckpoint
{
    private readonly Dictionary<string, TensorInfo> _byName;

    public OnnxCheckpoint(string path, OnnxModel model)
    {
        Path = path;
        Model = model;
        var list = new List<TensorInfo>();
        foreach (var init in model.ListInitializers())
        {
            if (init.DType is not DType dtype)
                throw new BadInputException($"{path}: initializer '{init.Name}' has ONNX element type {OnnxDTypes.OnnxName(init.OnnxDataType)}, which merging does not handle");
            list.Add(new TensorInfo(init.Name, dtype, init.Shape));
        }
        Tensors = list;
        _byName = list.ToDictionary(t => t.Name, StringComparer.Ordinal);
        UsesExternalData = model.ListInitializers().Any(i => i.IsExternal);
    }

    public static OnnxCheckpoint Open(string path) => new(path, OnnxModel.Load(path));

    public string Path { get; }
    public CheckpointFormat Format => CheckpointFormat.Onnx;
    public IReadOnlyList<TensorInfo> Tensors { get; }
    public OnnxModel Model { get; }

    /// <summary>True when at least one initializer lives in an external data file.</summary>
    public bool UsesExternalData { get; }

    /// <summary>Every file this checkpoint reads (full paths): the model and its external data files.</summary>
    public IEnumerable<string> Files()
    {
        yield return System.IO.Path.GetFullPath(Path);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in Model.Graph.Initializer)
            foreach (var entry in t.ExternalData)
                if (entry.Key == "location" && seen.Add(entry.Value))
                    yield return System.IO.Path.GetFullPath(System.IO.Path.Combine(Model.BaseDirectory, entry.Value));
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public TensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new BadInputException($"{Path}: no initializer '{name}'");

    public Tensor Load(string name)
    {
        Info(name);
        return Model.ViewInitializer(name);
    }

    public void Dispose() { }
}
