using System.Text.RegularExpressions;
using Amalgam.Engine.Checkpoints;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// What a merge works on: the base checkpoint, K task checkpoints in task order, and the split of
/// their tensors into shared float parameters (merged; sorted by name, the fixed global order),
/// task-private parameters (named by the <c>--private</c> regex, kept per task) and non-float
/// constants (copied from the base). Shared parameters and constants come from the base and must
/// agree exactly in every task; private parameters are each task's own: their shapes may differ
/// between tasks and from the base (a head per task with its own class count), and the base need
/// not have them at all. <see cref="Open"/> validates everything that can be checked without
/// reading weights, before any heavy work (see <see cref="ProblemValidator"/>).
/// </summary>
public sealed class MergeProblem : IDisposable
{
    private MergeProblem(ICheckpoint @base, IReadOnlyList<ICheckpoint> tasks, IReadOnlyList<string> taskNames, Regex? privatePattern)
    {
        Base = @base;
        Tasks = tasks;
        TaskNames = taskNames;
        PrivatePattern = privatePattern;
        var shared = new List<TensorInfo>();
        var basePrivate = new List<TensorInfo>();
        var constants = new List<TensorInfo>();
        foreach (var t in @base.Tensors)
        {
            if (IsPrivate(t.Name)) basePrivate.Add(t);
            else if (t.DType.IsFloat()) shared.Add(t);
            else constants.Add(t);
        }
        shared.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        Shared = shared;
        BasePrivate = basePrivate;
        Private = tasks.Select(t => (IReadOnlyList<TensorInfo>)t.Tensors.Where(i => IsPrivate(i.Name)).ToList()).ToList();
        Constants = constants;
    }

    public ICheckpoint Base { get; }
    public IReadOnlyList<ICheckpoint> Tasks { get; }

    /// <summary>Task names (input file names without extension, made unique with "-2", "-3", ...).</summary>
    public IReadOnlyList<string> TaskNames { get; }
    public int K => Tasks.Count;
    public CheckpointFormat Format => Base.Format;
    public Regex? PrivatePattern { get; }
    public bool HasPrivate => PrivatePattern is not null;

    /// <summary>Merged float parameters, sorted by name (ordinal).</summary>
    public IReadOnlyList<TensorInfo> Shared { get; }

    /// <summary>
    /// Task-private parameters per task (<c>Private[k]</c>: task k's own, in its file's order, with its
    /// own shapes); task k's output keeps them and every model run of task k uses them.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<TensorInfo>> Private { get; }

    /// <summary>The base's tensors matching <c>--private</c> (possibly none: a headless backbone); never merged.</summary>
    public IReadOnlyList<TensorInfo> BasePrivate { get; }

    /// <summary>True when <paramref name="name"/> matches <c>--private</c>.</summary>
    public bool IsPrivate(string name) => PrivatePattern?.IsMatch(name) == true;

    /// <summary>Non-float tensors not marked private: identical in every model, copied from the base.</summary>
    public IReadOnlyList<TensorInfo> Constants { get; }

    /// <summary>Bytes of the shared tensors in one model (as stored).</summary>
    public long SharedBytes => Shared.Sum(t => t.ByteLength);

    /// <summary>
    /// Opens the base and task models and validates them (same format; the same names, dtypes and
    /// shapes of shared tensors and, for ONNX, the same graph up to private parameters; a useful
    /// --private regex; identical constants). Throws
    /// <see cref="BadInputException"/> naming the file, tensor or option; nothing stays open then.
    /// </summary>
    public static MergeProblem Open(string basePath, IReadOnlyList<string> taskPaths, string? privateRegex = null)
    {
        if (taskPaths.Count == 0) throw new BadInputException("no task models given (--model)");
        Regex? pattern = CompilePrivate(privateRegex);
        var opened = new List<ICheckpoint>();
        try
        {
            opened.Add(Checkpoint.Open(basePath));
            foreach (string p in taskPaths) opened.Add(Checkpoint.Open(p));
            var problem = new MergeProblem(opened[0], opened.Skip(1).ToArray(), TaskNamesOf(taskPaths), pattern);
            ProblemValidator.Validate(problem);
            return problem;
        }
        catch
        {
            foreach (var c in opened) c.Dispose();
            throw;
        }
    }

    /// <summary>File name without extension (a folder's own name; an index json's folder name), unique.</summary>
    public static IReadOnlyList<string> TaskNamesOf(IReadOnlyList<string> paths)
    {
        var names = new List<string>(paths.Count);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (string p in paths)
        {
            string full = Path.GetFullPath(p).TrimEnd(Path.DirectorySeparatorChar);
            string name = Directory.Exists(full) || full.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? Path.GetFileName(Directory.Exists(full) ? full : Path.GetDirectoryName(full)!)
                : Path.GetFileNameWithoutExtension(full);
            if (string.IsNullOrEmpty(name)) name = "task";
            string unique = name;
            for (int i = 2; !used.Add(unique); i++) unique = $"{name}-{i}";
            names.Add(unique);
        }
        return names;
    }

    private static Regex? CompilePrivate(string? regex)
    {
        if (regex is null) return null;
        if (regex.Length == 0) throw new BadInputException("--private: empty regex");
        try
        {
            return new Regex(regex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new BadInputException($"--private: '{regex}' is not a valid regex ({e.Message.ReplaceLineEndings(" ")})", e);
        }
    }

    public void Dispose()
    {
        Base.Dispose();
        foreach (var t in Tasks) t.Dispose();
    }
}
