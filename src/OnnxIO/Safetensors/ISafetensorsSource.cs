using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// Tensors stored as safetensors, whether one file (<see cref="SafetensorsFile"/>) or a sharded
/// checkpoint (<see cref="ShardedSafetensors"/>), so checkpoint code treats both alike.
/// Open one with <see cref="SafetensorsSource.Open"/>.
/// </summary>
public interface ISafetensorsSource : IDisposable
{
    /// <summary>The file or index this source was opened from (used in messages).</summary>
    string Path { get; }

    /// <summary>Tensor names, in file order (for a sharded checkpoint: index order).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>File-level metadata (a file's <c>__metadata__</c>, an index's <c>metadata</c>).</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    bool Contains(string name);

    /// <summary>Name, dtype, shape and byte range of a tensor, without reading its data.
    /// Throws <see cref="BadInputException"/> if there is no such tensor.</summary>
    SafetensorsEntry Entry(string name);

    /// <summary>A read-only, zero-copy view of a tensor's data; the caller disposes it.
    /// Throws <see cref="BadInputException"/> if there is no such tensor.</summary>
    Tensor Get(string name);
}
