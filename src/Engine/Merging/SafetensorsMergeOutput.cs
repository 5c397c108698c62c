using Amalgam.Engine.Checkpoints;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Safetensors output: one file, or a sharded checkpoint (index + shards of at most the base's
/// largest shard size) when the base is sharded and --out is a folder or an index json; with
/// task-private parameters, one such model per task named after the task, laid out as the task's
/// own file (its tensor order, its private tensors with their own shapes, its metadata) with the
/// merged shared tensors. Float tensors are written in the requested dtype, else in the stored one.
/// </summary>
internal sealed class SafetensorsMergeOutput : MergeOutput
{
    private readonly MergeProblem _p;
    private readonly DType? _dtype;
    private readonly List<Target> _targets = new();
    private readonly bool _perTask;
    private bool _committed;

    /// <summary>One output model: a single file (Folder null) or a sharded checkpoint.</summary>
    private sealed record Target(string Path, string? Folder, string BaseName, SafetensorsCheckpoint Source)
    {
        public SafetensorsWriter? Single;
        public ShardedSafetensorsWriter? Sharded;
        public List<string> Files = new();
    }

    public SafetensorsMergeOutput(MergeProblem p, string outPath, DType? dtype, bool perTask)
    {
        _perTask = perTask;
        _p = p;
        _dtype = dtype;
        var sc = (SafetensorsCheckpoint)p.Base;
        string full = System.IO.Path.GetFullPath(outPath);
        const string indexSuffix = ".safetensors.index.json";
        if (perTask)
        {
            for (int k = 0; k < p.K; k++)
            {
                string task = p.TaskNames[k];
                var source = (SafetensorsCheckpoint)p.Tasks[k];
                _targets.Add(sc.IsSharded
                    ? new Target(System.IO.Path.Combine(full, task + indexSuffix), full, task, source)
                    : new Target(System.IO.Path.Combine(full, task + ".safetensors"), null, task, source));
            }
        }
        else if (full.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            _targets.Add(new Target(full, null, "", sc));
        }
        else if (full.EndsWith(indexSuffix, StringComparison.OrdinalIgnoreCase))
        {
            string name = System.IO.Path.GetFileName(full);
            _targets.Add(new Target(full, System.IO.Path.GetDirectoryName(full)!, name[..^indexSuffix.Length], sc));
        }
        else if (sc.IsSharded && !File.Exists(full))
        {
            _targets.Add(new Target(System.IO.Path.Combine(full, "model" + indexSuffix), full, "model", sc));
        }
        else
        {
            throw new BadInputException($"--out {outPath}: safetensors inputs need a .safetensors output file{(sc.IsSharded ? ", a folder or a *.safetensors.index.json" : "")}");
        }
        foreach (var t in _targets)
        {
            if (t.Folder is null) t.Files.Add(t.Path);
            else
            {
                int shards = ShardCount(Declarations(t), sc.MaxShardBytes);
                for (int i = 0; i < shards; i++) t.Files.Add(System.IO.Path.Combine(t.Folder, $"{t.BaseName}-{i + 1:D5}-of-{shards:D5}.safetensors"));
                t.Files.Add(t.Path);
            }
        }
    }

    public override IReadOnlyList<string> Files => _targets.SelectMany(t => t.Files).ToArray();
    public override IReadOnlyList<string> Models => _targets.Select(t => t.Path).ToArray();

    public override DType OutputDType(TensorInfo info) => info.DType.IsFloat() ? _dtype ?? info.DType : info.DType;

    public override void Open()
    {
        var sc = (SafetensorsCheckpoint)_p.Base;
        for (int k = 0; k < _targets.Count; k++)
        {
            var t = _targets[k];
            var decl = Declarations(t);
            if (t.Folder is null)
            {
                EnsureFolder(System.IO.Path.GetDirectoryName(t.Path)!);
                t.Single = new SafetensorsWriter(t.Path, decl, Metadata(t.Source));
            }
            else
            {
                EnsureFolder(t.Folder);
                t.Sharded = new ShardedSafetensorsWriter(t.Folder, decl, sc.MaxShardBytes, Metadata(t.Source), t.BaseName);
            }
        }
    }

    public override void WriteShared(Tensor merged)
    {
        foreach (var t in _targets) Write(t, merged);
    }

    public override void WriteShared(int task, Tensor merged) => Write(_perTask ? _targets[task] : throw new InvalidOperationException("one output model for all tasks"), merged);

    public override void WritePrivate(int task, Tensor value) => Write(_p.HasPrivate ? _targets[task] : throw new InvalidOperationException("no private parameters"), value);

    public override void WriteConstant(Tensor value)
    {
        foreach (var t in _targets) Write(t, value);
    }

    public override void Commit()
    {
        foreach (var t in _targets)
        {
            t.Single?.Commit();
            t.Sharded?.Commit();
        }
        _committed = true;
    }

    protected override void Abort()
    {
        foreach (var t in _targets)
        {
            t.Single?.Dispose();   // deletes its temp file when incomplete
            t.Sharded?.Dispose();
            if (!_committed && (t.Single?.IsComplete == true || t.Sharded?.IsComplete == true))
                foreach (string f in t.Files) TryDelete(f);   // Dispose committed a complete one; a failed merge keeps nothing
        }
        _targets.ForEach(t => { t.Single = null; t.Sharded = null; });
    }

    private static void Write(Target t, Tensor value)
    {
        if (t.Single is not null) t.Single.Write(value);
        else t.Sharded!.Write(value);
    }

    /// <summary>
    /// Tensors of one output model in its source's order (the base's, or with --private the task's own,
    /// which holds the base's shared tensors and constants plus its own private ones), in their output dtypes.
    /// </summary>
    private List<SafetensorsDeclaration> Declarations(Target t) =>
        t.Source.Tensors.Select(i => new SafetensorsDeclaration(i.Name, OutputDType(i), i.Shape)).ToList();

    private static IReadOnlyDictionary<string, string>? Metadata(SafetensorsCheckpoint source)
    {
        var m = source.Metadata.Where(kv => kv.Key != "total_size").ToDictionary(kv => kv.Key, kv => kv.Value);
        return m.Count == 0 ? null : m;
    }

    /// <summary>The shard count <see cref="ShardedSafetensorsWriter"/>'s greedy split will give (for file names).</summary>
    private static int ShardCount(List<SafetensorsDeclaration> tensors, long maxShardBytes)
    {
        int shards = 1, inShard = 0;
        long size = 0;
        foreach (var d in tensors)
        {
            if (inShard > 0 && size + d.ByteLength > maxShardBytes) { shards++; size = 0; inShard = 0; }
            inShard++;
            size += d.ByteLength;
        }
        return shards;
    }
}
