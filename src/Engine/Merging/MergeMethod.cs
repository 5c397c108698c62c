using System.Text.Json;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// The math of one merge method, separate from I/O and scheduling (the executor streams tensors to
/// it). Per-tensor methods implement only <see cref="Merge"/>. Global methods (statistics over the
/// whole model, e.g. TIES' global top-k threshold) declare <see cref="PrepassCount"/> passes: the
/// executor shows them every shared tensor in <see cref="Observe"/> (sorted by name, one at a time),
/// calls <see cref="EndPrepass"/>, and then runs the merge pass. A method instance serves one merge.
/// Inputs arrive in their stored dtype: methods read f32 tiles through the accessors of
/// <see cref="TensorGroup"/> (zero-copy for f32, converted per tile otherwise), never whole f32 copies.
/// </summary>
public abstract class MergeMethod
{
    /// <summary>
    /// Data-dependent methods (regmean, fisher, cat, adamerging) need one `--data` file per task and
    /// ONNX models; the merger checks both and calls <see cref="Prepare"/> before any pass.
    /// </summary>
    public virtual bool NeedsData => false;

    /// <summary>Runs the method's data stage (features, Gram matrices, learned coefficients) once,
    /// before the prepasses and the merge pass; the state it keeps serves <see cref="Merge"/>.</summary>
    public virtual void Prepare(MergeContext context) { }

    /// <summary>
    /// Called once for every method (data-free too) before any pass, with the opened problem: for
    /// methods whose math depends on how a tensor is stored (e.g. Iso-CTS projects on the output side,
    /// so it needs to know which 2-D tensors are stored transposed relative to torch's d_out x d_in).
    /// </summary>
    public virtual void Begin(MergeProblem problem) { }

    /// <summary>Passes over all shared tensors needed before the merge pass (0 = per-tensor method).</summary>
    public virtual int PrepassCount => 0;

    /// <summary>Accumulates statistics of pass <paramref name="pass"/> (0-based) from one tensor.</summary>
    public virtual void Observe(int pass, TensorGroup group) { }

    /// <summary>Finishes pass <paramref name="pass"/> once every tensor was observed.</summary>
    public virtual void EndPrepass(int pass) { }

    /// <summary>Writes the merged tensor (f32, same shape) for one shared parameter.</summary>
    public abstract void Merge(TensorGroup group, Tensor merged);

    /// <summary>
    /// True for methods whose output is one model per task with task-specific shared tensors (EMR's
    /// masks and rescalers): --out is then a folder with one model per task, as with --private, and the
    /// executor calls <see cref="MergeTask"/> once per task instead of <see cref="Merge"/>.
    /// </summary>
    public virtual bool PerTaskModels => false;

    /// <summary>Writes task <paramref name="task"/>'s tensor (f32, same shape) for one shared parameter (<see cref="PerTaskModels"/> only).</summary>
    public virtual void MergeTask(TensorGroup group, int task, Tensor merged) =>
        throw new NotSupportedException($"{GetType().Name} writes one model for all tasks");

    /// <summary>Called once the merged output is committed (e.g. to delete a resumable state or free held memory).</summary>
    public virtual void Finish() { }

    /// <summary>
    /// Contract-level fields written at the TOP level of the JSON report (e.g. adamerging's `lambdas`
    /// and `loss`); write properties only. Most methods write none and use <see cref="WriteReport"/>.
    /// </summary>
    public virtual void WriteTopLevel(Utf8JsonWriter writer) { }

    /// <summary>Method-specific results for the JSON report (thresholds, kept fractions, ...).</summary>
    public virtual void WriteReport(Utf8JsonWriter writer) { }
}
