using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// Streams a sharded checkpoint into a folder: tensors are declared upfront and split, in declared
/// order, into shards of at most <c>maxShardBytes</c> data bytes (a tensor larger than that gets a
/// shard of its own), named <c>{baseName}-00001-of-00003.safetensors</c>; then tensors are written
/// as with <see cref="SafetensorsWriter"/>. <see cref="Commit"/> renames every shard into place and
/// writes <c>{baseName}.safetensors.index.json</c> last, so the index only ever names complete shards.
/// Each shard's <c>__metadata__</c> and the index's <c>metadata</c> carry the given metadata; the
/// index adds <c>total_size</c> (sum of tensor bytes). Always writes an index, even for one shard.
/// </summary>
public sealed class ShardedSafetensorsWriter : IDisposable
{
    private readonly List<SafetensorsWriter> _shards = new();
    private readonly Dictionary<string, SafetensorsWriter> _writerOf = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, string>> _weightMap = new();
    private readonly IReadOnlyDictionary<string, string>? _metadata;
    private readonly long _totalSize;
    private bool _committed, _disposed;

    public ShardedSafetensorsWriter(string folder, IEnumerable<SafetensorsDeclaration> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        _metadata = metadata;
        var plan = Plan(tensors.ToList(), maxShardBytes);
        _totalSize = plan.Sum(s => s.Sum(d => d.ByteLength));
        IndexPath = System.IO.Path.Combine(folder, $"{baseName}.safetensors.index.json");
        try
        {
            for (int i = 0; i < plan.Count; i++)
            {
                string file = $"{baseName}-{i + 1:D5}-of-{plan.Count:D5}.safetensors";
                var writer = new SafetensorsWriter(System.IO.Path.Combine(folder, file), plan[i], metadata);
                _shards.Add(writer);
                foreach (var d in plan[i])
                {
                    if (!_writerOf.TryAdd(d.Name, writer)) throw new ArgumentException($"tensor '{d.Name}' is declared twice", nameof(tensors));
                    _weightMap.Add(new(d.Name, file));
                }
            }
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>Where the index will be written.</summary>
    public string IndexPath { get; }

    /// <summary>Final paths of the shard files.</summary>
    public IReadOnlyList<string> ShardPaths => _shards.Select(s => s.Path).ToArray();

    public bool IsComplete => _shards.All(s => s.IsComplete);

    public void Write(Tensor tensor) => WriterOf(tensor.Name).Write(tensor);

    public void WriteChunk(string name, ReadOnlySpan<byte> bytes) => WriterOf(name).WriteChunk(name, bytes);

    /// <summary>Renames every shard into place, then writes the index (temp + rename).</summary>
    public void Commit()
    {
        if (_committed) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!IsComplete) throw new InvalidOperationException($"{IndexPath}: not every tensor is completely written");
        try
        {
            foreach (var s in _shards) s.Commit();
            AtomicFile.WriteAllBytes(IndexPath, SafetensorsIndex.Serialize(_metadata, _totalSize, _weightMap));
            _committed = true;
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>Commits if every tensor is complete, otherwise deletes all temp files.</summary>
    public void Dispose()
    {
        if (_committed || _disposed) return;
        if (IsComplete) Commit();
        else Abort();
        _disposed = true;
    }

    public static void WriteAll(string folder, IEnumerable<Tensor> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model")
    {
        var list = tensors.ToList();
        using var w = new ShardedSafetensorsWriter(folder, list.Select(SafetensorsDeclaration.Of), maxShardBytes, metadata, baseName);
        foreach (var t in list) w.Write(t);
        w.Commit();
    }

    /// <summary>Greedy split in declared order; never an empty shard (an empty checkpoint is one empty shard).</summary>
    internal static List<List<SafetensorsDeclaration>> Plan(List<SafetensorsDeclaration> tensors, long maxShardBytes)
    {
        var shards = new List<List<SafetensorsDeclaration>> { new() };
        long size = 0;
        foreach (var d in tensors)
        {
            long bytes = d.ByteLength;
            if (shards[^1].Count > 0 && size + bytes > maxShardBytes)
            {
                shards.Add(new());
                size = 0;
            }
            shards[^1].Add(d);
            size += bytes;
        }
        return shards;
    }

    private SafetensorsWriter WriterOf(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _writerOf.TryGetValue(name, out var w) ? w : throw new ArgumentException($"tensor '{name}' was not declared", nameof(name));
    }

    private void Abort()
    {
        _disposed = true;
        foreach (var s in _shards) s.Abort(); // deletes temp files of shards not yet renamed
    }
}
