using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Checkpoints;

/// <summary>
/// A safetensors checkpoint (one file or a sharded index) as an <see cref="ICheckpoint"/>. Tensors
/// are zero-copy views of the memory-mapped file(s).
/// </summary>
public sealed class SafetensorsCheckpoint : ICheckpoint
{
    private readonly ISafetensorsSource _source;
    private readonly Dictionary<string, TensorInfo> _byName;

    public SafetensorsCheckpoint(string path, ISafetensorsSource source)
    {
        Path = path;
        _source = source;
        var list = new List<TensorInfo>(source.Names.Count);
        foreach (string name in source.Names)
        {
            var e = source.Entry(name);
            list.Add(new TensorInfo(e.Name, e.DType, e.Shape.ToArray()));
        }
        Tensors = list;
        _byName = list.ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (source is ShardedSafetensors sharded)
        {
            // The largest shard's data bytes, so a merged checkpoint is split the same way.
            ShardFiles = sharded.Shards;
            var index = SafetensorsIndex.Read(source.Path);
            MaxShardBytes = index.WeightMap.Count == 0 ? 1
                : index.WeightMap.GroupBy(kv => kv.Value).Max(g => g.Sum(kv => _byName[kv.Key].ByteLength));
        }
    }

    /// <summary>Opens a .safetensors file, an index json or a folder holding either.</summary>
    public static SafetensorsCheckpoint Open(string path)
    {
        var source = SafetensorsSource.Open(path);
        try
        {
            return new SafetensorsCheckpoint(path, source);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public CheckpointFormat Format => CheckpointFormat.Safetensors;
    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The file or index json actually opened.</summary>
    public string SourcePath => _source.Path;

    /// <summary>The file's <c>__metadata__</c> (or the index's <c>metadata</c>).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _source.Metadata;

    public bool IsSharded => _source is ShardedSafetensors;

    /// <summary>Shard file names as the index spells them (empty for a single file).</summary>
    public IReadOnlyList<string> ShardFiles { get; } = [];

    /// <summary>Data bytes of the largest shard (0 for a single file).</summary>
    public long MaxShardBytes { get; }

    /// <summary>Every file this checkpoint reads (full paths): the file, or the index and its shards.</summary>
    public IEnumerable<string> Files()
    {
        string full = System.IO.Path.GetFullPath(_source.Path);
        yield return full;
        string folder = System.IO.Path.GetDirectoryName(full)!;
        foreach (string shard in ShardFiles) yield return System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, shard));
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public TensorInfo Info(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new BadInputException($"{Path}: no tensor '{name}'");

    public Tensor Load(string name) => _source.Get(name);

    public void Dispose() => _source.Dispose();
}
