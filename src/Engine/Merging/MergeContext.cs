using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// What a data-dependent method (regmean, fisher, cat, adamerging) sees in
/// <see cref="MergeMethod.Prepare"/>, before the executor streams the merge: the validated problem
/// (ONNX models), each task's unlabeled inputs (<c>--data</c>, task order; labels are never read),
/// the output path (long runs keep their resumable state next to it), progress and cancellation.
/// </summary>
public sealed class MergeContext
{
    public required MergeProblem Problem { get; init; }

    /// <summary>One data file per task (`.npy` or `.safetensors`), same order as the models.</summary>
    public required IReadOnlyList<string> Data { get; init; }

    /// <summary>The merge's `--out` (file or folder), as the user gave it.</summary>
    public required string Out { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Where the method's ONNX Runtime sessions run (forward and gradient graphs).</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    /// <summary>Stages report with <see cref="MergeProgress.Pass"/> = "features", "bases", "step", ...
    /// and <see cref="MergeProgress.Detail"/> for a short live value (e.g. "loss 0.4213").</summary>
    public IProgress<MergeProgress>? Progress { get; init; }

    /// <summary>Ctrl-C: long methods save their state and throw <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancellation { get; init; }
}
