using Amalgam.Engine.Checkpoints;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Checks a <see cref="MergeProblem"/> before any weight is merged: every error is one line naming
/// the files and listing the first <see cref="MaxDifferences"/> differences. Task-private parameters
/// (<c>--private</c>) are exempt: they may have any shape and be missing from the base. For ONNX, the
/// graphs must be the same up to them: a graph input or output computed from a private parameter may
/// differ in its dimensions (the logits' class count); nodes, attributes, opsets and everything else
/// must agree. The reference graph is the base's, or task 1's when the base has no private
/// parameter at all (a headless backbone: only its shared initializers are compared then).
/// </summary>
internal static class ProblemValidator
{
    public const int MaxDifferences = 10;

    public static void Validate(MergeProblem p)
    {
        foreach (var t in p.Tasks)
            if (t.Format != p.Base.Format)
                throw new BadInputException($"{t.Path} is {t.Format} but the base {p.Base.Path} is {p.Base.Format}; all models must have the same format");
        CheckPrivate(p);   // first: a regex that matches nothing explains the head differences that follow
        foreach (var t in p.Tasks) CompareTensors(p.Base, t, p.IsPrivate);
        if (p.Base is OnnxCheckpoint b)
        {
            // A base without the private parameters is a different graph (no head); the tasks must then agree with each other.
            var reference = p.HasPrivate && p.BasePrivate.Count == 0 ? (OnnxCheckpoint)p.Tasks[0] : b;
            foreach (var t in p.Tasks.Cast<OnnxCheckpoint>())
                if (!ReferenceEquals(t, reference))
                    CompareGraphs(reference, t, p.HasPrivate ? p.IsPrivate : null,
                        ReferenceEquals(reference, b) ? $"the base {b.Path}" : $"the first task model {reference.Path} (the base has no --private parameter, so its graph is not compared)");
        }
        if (p.Shared.Count == 0)
            throw new BadInputException($"{p.Base.Path} has no float tensors to merge");
        foreach (var info in p.Constants) CheckConstant(p, info);
    }

    /// <summary>Same names, dtypes and shapes as the base, except for private tensors.</summary>
    private static void CompareTensors(ICheckpoint @base, ICheckpoint task, Func<string, bool> isPrivate)
    {
        var diffs = new List<string>();
        int count = 0;
        void Add(string s)
        {
            count++;
            if (diffs.Count < MaxDifferences) diffs.Add(s);
        }
        foreach (var bt in @base.Tensors)
        {
            if (isPrivate(bt.Name)) continue;
            if (!task.Contains(bt.Name)) { Add($"'{bt.Name}' missing"); continue; }
            var tt = task.Info(bt.Name);
            if (tt.DType != bt.DType) Add($"'{bt.Name}' is {tt.DType.ShortName()}, base {bt.DType.ShortName()}");
            if (!tt.Shape.AsSpan().SequenceEqual(bt.Shape)) Add($"'{bt.Name}' has shape {Shapes.Format(tt.Shape)}, base {Shapes.Format(bt.Shape)}");
        }
        foreach (var tt in task.Tensors)
            if (!@base.Contains(tt.Name) && !isPrivate(tt.Name)) Add($"'{tt.Name}' not in the base");
        if (count > 0)
            throw new BadInputException($"{task.Path} does not match the base {@base.Path} ({count} difference{(count == 1 ? "" : "s")}): {string.Join("; ", diffs)}{(count > diffs.Count ? "; ..." : "")}");
    }

    private static void CompareGraphs(OnnxCheckpoint reference, OnnxCheckpoint task, Func<string, bool>? isPrivate, string referenceName)
    {
        var diffs = OnnxModelComparer.Compare(reference.Model, task.Model, MaxDifferences + 1, isPrivate);
        if (diffs.Count == 0) return;
        string shown = string.Join("; ", diffs.Take(MaxDifferences).Select(d => d.ReplaceLineEndings(" ")));
        string what = isPrivate is null ? "" : " outside the --private parameters";
        throw new BadInputException($"{task.Path} has a different graph structure{what} from {referenceName}: {shown}{(diffs.Count > MaxDifferences ? "; ..." : "")}");
    }

    private static void CheckPrivate(MergeProblem p)
    {
        if (p.PrivatePattern is null) return;
        string regex = p.PrivatePattern.ToString();
        if (p.BasePrivate.Count == 0 && p.Private.All(t => t.Count == 0))
            throw new BadInputException($"--private '{regex}' matches no tensor of {p.Base.Path} or of any task model");
        if (p.Shared.Count == 0)
            throw new BadInputException($"--private '{regex}' matches every float tensor of {p.Base.Path}; nothing would be merged");
    }

    /// <summary>Non-float tensors are copied from the base, so every model must hold the same values.</summary>
    private static void CheckConstant(MergeProblem p, TensorInfo info)
    {
        using var reference = p.Base.Load(info.Name);
        foreach (var task in p.Tasks)
        {
            using var other = task.Load(info.Name);
            if (!SameBytes(reference, other))
                throw new BadInputException($"non-float tensor '{info.Name}' differs between {p.Base.Path} and {task.Path}; such tensors are copied from the base and must be identical (mark it with --private to keep it per task)");
        }
    }

    private static unsafe bool SameBytes(Tensor a, Tensor b)
    {
        if (a.ByteLength != b.ByteLength) return false;
        for (long done = 0; done < a.ByteLength;)
        {
            int n = (int)Math.Min(1 << 30, a.ByteLength - done);
            if (!new ReadOnlySpan<byte>(a.Pointer + done, n).SequenceEqual(new ReadOnlySpan<byte>(b.Pointer + done, n))) return false;
            done += n;
        }
        return true;
    }
}
