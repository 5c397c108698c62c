using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// A sharded checkpoint read through its index json: one name -> tensor map over several
/// safetensors files. Opening validates the index and the shard paths (relative, inside the folder,
/// no symbolic link escaping it); each shard is opened (mapped, header validated) the first time one
/// of its tensors is asked for. When a shard opens, every tensor the weight_map assigns to it must be
/// in it, and it must not hold a tensor the weight_map assigns to another shard (a duplicate).
/// <see cref="ValidateAll"/> opens every shard now. Thread-safe.
/// </summary>
public sealed class ShardedSafetensors : ISafetensorsSource
{
    private readonly Dictionary<string, string> _shardOf;         // tensor -> shard name in the index
    private readonly Dictionary<string, string> _shardPath;       // shard name -> full path
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _disposed;

    private ShardedSafetensors(string path, SafetensorsIndex index, Dictionary<string, string> shardPath)
    {
        Path = path;
        Metadata = index.Metadata;
        Names = index.WeightMap.Select(kv => kv.Key).ToArray();
        _shardOf = index.WeightMap.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        _shardPath = shardPath;
        Shards = index.WeightMap.Select(kv => kv.Value).Distinct().ToArray();
    }

    public string Path { get; }
    public IReadOnlyList<string> Names { get; }

    /// <summary>The index's <c>metadata</c>; non-string values (e.g. total_size) as their JSON text.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Shard file names as the index spells them, in first-use order.</summary>
    public IReadOnlyList<string> Shards { get; }

    public static ShardedSafetensors Open(string indexPath)
    {
        var index = SafetensorsIndex.Read(indexPath);
        string folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (_, shard) in index.WeightMap)
            if (!paths.ContainsKey(shard)) paths[shard] = ShardPaths.Resolve(indexPath, folder, shard);
        return new ShardedSafetensors(indexPath, index, paths);
    }

    public bool Contains(string name) => _shardOf.ContainsKey(name);

    public SafetensorsEntry Entry(string name) => ShardFor(name).Entry(name);

    public Tensor Get(string name) => ShardFor(name).Get(name);

    /// <summary>Opens and cross-checks every shard (instead of on first use).</summary>
    public void ValidateAll()
    {
        foreach (string shard in Shards) OpenShard(shard);
    }

    private SafetensorsFile ShardFor(string name) =>
        _shardOf.TryGetValue(name, out string? shard) ? OpenShard(shard)
            : throw new BadInputException($"{Path}: no tensor {SafetensorsHeaderParser.Quote(name)} in weight_map");

    private SafetensorsFile OpenShard(string shard)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_open.TryGetValue(shard, out var file)) return file;
            file = SafetensorsFile.Open(_shardPath[shard]);
            try
            {
                foreach (var (tensor, owner) in _shardOf)
                    if (owner == shard && !file.Contains(tensor))
                        throw new BadInputException($"{Path}: tensor {SafetensorsHeaderParser.Quote(tensor)} is mapped to shard {SafetensorsHeaderParser.Quote(shard)} but is not in it");
                foreach (string tensor in file.Names)
                    if (_shardOf.TryGetValue(tensor, out string? owner) && owner != shard)
                        throw new BadInputException($"{Path}: tensor {SafetensorsHeaderParser.Quote(tensor)} is in shard {SafetensorsHeaderParser.Quote(shard)} and also in {SafetensorsHeaderParser.Quote(owner)} (duplicate)");
            }
            catch
            {
                file.Dispose();
                throw;
            }
            _open[shard] = file;
            return file;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var f in _open.Values) f.Dispose();
            _open.Clear();
        }
    }
}
