using Amalgam.Engine.Checkpoints;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Where merged tensors go: one model, or with task-private parameters one model per task in the
/// <c>--out</c> folder. <see cref="Plan"/> decides the file names (nothing is created, so they can be
/// checked against the inputs first); <see cref="Open"/> creates temp files; <see cref="Commit"/>
/// renames them into place; disposing without a commit deletes everything this output created.
/// </summary>
internal abstract class MergeOutput : IDisposable
{
    private string? _createdFolder;

    /// <summary>Final paths of every file this output writes (full paths).</summary>
    public abstract IReadOnlyList<string> Files { get; }

    /// <summary>The models written: one path per output model (a file, or a sharded index).</summary>
    public abstract IReadOnlyList<string> Models { get; }

    /// <summary>The dtype a tensor is written in.</summary>
    public abstract DType OutputDType(TensorInfo info);

    public abstract void Open();
    public abstract void WriteShared(Tensor merged);

    /// <summary>Task <paramref name="task"/>'s own value of a shared tensor (outputs planned with one model per task).</summary>
    public abstract void WriteShared(int task, Tensor merged);
    public abstract void WritePrivate(int task, Tensor value);
    public abstract void WriteConstant(Tensor value);
    public abstract void Commit();
    protected abstract void Abort();

    /// <param name="perTaskModels">One model per task even without private tensors (a method with task-specific shared tensors).</param>
    public static MergeOutput Plan(MergeProblem p, string outPath, DType? dtype, bool perTaskModels = false)
    {
        if (string.IsNullOrWhiteSpace(outPath)) throw new BadInputException("--out: empty path");
        bool perTask = p.HasPrivate || perTaskModels;
        if (perTask && File.Exists(outPath))
            throw new BadInputException(p.HasPrivate
                ? $"--out {outPath}: with --private, --out is a folder (one model per task), but this is a file"
                : $"--out {outPath}: this method writes one model per task, so --out is a folder, but this is a file");
        MergeOutput output = p.Format == CheckpointFormat.Onnx ? new OnnxMergeOutput(p, outPath, dtype, perTask) : new SafetensorsMergeOutput(p, outPath, dtype, perTask);
        CheckAgainstInputs(p, outPath, output.Files);
        return output;
    }

    /// <summary>Refuses outputs that would overwrite an input (the path itself, a shard, external data).</summary>
    private static void CheckAgainstInputs(MergeProblem p, string outPath, IReadOnlyList<string> files)
    {
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in p.Tasks.Prepend(p.Base))
        {
            inputs.TryAdd(Normalise(c.Path), c.Path);
            foreach (string f in Checkpoint.Files(c)) inputs.TryAdd(Normalise(f), c.Path);
        }
        if (inputs.TryGetValue(Normalise(outPath), out string? same))
            throw new BadInputException($"--out {outPath} is the input {same}; write the merged model somewhere else");
        foreach (string f in files)
            if (inputs.TryGetValue(Normalise(f), out string? input))
                throw new BadInputException($"--out {outPath} would overwrite {f}, part of the input {input}; write the merged model somewhere else");
    }

    private static string Normalise(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        try
        {
            // Resolve a symbolic link at the path itself so a link to an input is caught too.
            var info = new FileInfo(full);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target) return target.FullName;
        }
        catch (IOException) { }
        return full;
    }

    /// <summary>Creates <paramref name="folder"/> if missing, remembering to remove it on failure.</summary>
    protected void EnsureFolder(string folder)
    {
        if (Directory.Exists(folder)) return;
        if (File.Exists(folder)) throw new BadInputException($"--out {folder}: a file is in the way of the output folder");
        try
        {
            // Only the last missing level is remembered; deeper new parents stay (they are empty).
            _createdFolder ??= folder;
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"--out {folder}: cannot create folder ({e.Message})", e);
        }
    }

    public void Dispose()
    {
        Abort();
        if (_createdFolder is not null)
        {
            try
            {
                if (Directory.Exists(_createdFolder) && !Directory.EnumerateFileSystemEntries(_createdFolder).Any()) Directory.Delete(_createdFolder);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    protected static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
