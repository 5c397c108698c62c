using Amalgam.Engine.Checkpoints;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Merging;

/// <summary>
/// ONNX output: the base model (or, with task-private parameters, each task's own model, which
/// already holds its private head) with the merged shared initializers swapped in, saved with
/// external data when the source model used it. The source models are edited in memory, so no
/// second copy of the weights is held; the checkpoints must not be read after the merge pass.
/// ONNX outputs keep each initializer's dtype (a graph's types are fixed).
/// </summary>
internal sealed class OnnxMergeOutput : MergeOutput
{
    private readonly List<(OnnxCheckpoint Source, string Path)> _targets = new();
    private readonly List<string> _saved = new();
    private bool _committed;

    public OnnxMergeOutput(MergeProblem p, string outPath, DType? dtype, bool perTask)
    {
        if (dtype is DType d && p.Shared.Any(t => t.DType != d))
            throw new BadInputException($"dtype {d.ShortName()}: ONNX outputs keep the model's own initializer dtypes (convert safetensors checkpoints instead)");
        string full = Path.GetFullPath(outPath);
        if (perTask)
        {
            for (int k = 0; k < p.K; k++) _targets.Add(((OnnxCheckpoint)p.Tasks[k], Path.Combine(full, p.TaskNames[k] + ".onnx")));
        }
        else
        {
            if (!full.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new BadInputException($"--out {outPath}: ONNX inputs need an .onnx output file");
            _targets.Add(((OnnxCheckpoint)p.Base, full));
        }
    }

    public override IReadOnlyList<string> Files =>
        _targets.SelectMany(t => t.Source.UsesExternalData ? new[] { t.Path, t.Path + ".data" } : new[] { t.Path }).ToArray();

    public override IReadOnlyList<string> Models => _targets.Select(t => t.Path).ToArray();

    public override DType OutputDType(TensorInfo info) => info.DType;

    public override void Open()
    {
        foreach (var (_, path) in _targets) EnsureFolder(Path.GetDirectoryName(path)!);
    }

    public override void WriteShared(Tensor merged)
    {
        // One copy, held by every target (not one fresh managed copy per target: K of them with per-task models).
        var bytes = SharedBytes.CopyOf(merged);
        foreach (var (source, _) in _targets) source.Model.ReplaceInitializer(merged.Name, bytes);
    }

    public override void WriteShared(int task, Tensor merged) => _targets[task].Source.Model.ReplaceInitializer(merged.Name, SharedBytes.CopyOf(merged));

    // Each target is its task's (or the base's) own model: private and constant initializers are already there.
    public override void WritePrivate(int task, Tensor value) { }
    public override void WriteConstant(Tensor value) { }

    public override void Commit()
    {
        foreach (var (source, path) in _targets)
        {
            var options = source.UsesExternalData ? OnnxSaveOptions.External() : OnnxSaveOptions.Inline;
            source.Model.Save(path, options);
            _saved.Add(path);
            if (source.UsesExternalData) _saved.Add(path + ".data");
        }
        _committed = true;
    }

    protected override void Abort()
    {
        // Save writes temp files and renames; only models saved before a failing one remain to remove.
        if (_committed) return;
        foreach (string f in _saved) TryDelete(f);
        _saved.Clear();
    }
}
