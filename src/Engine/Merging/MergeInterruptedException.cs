namespace Amalgam.Engine.Merging;

/// <summary>
/// A long data-dependent merge stopped by <see cref="MergeRequest.Cancellation"/> after saving its
/// state; the message is the one line the CLI prints ("interrupted at step N; state saved to X; run
/// the same command to resume"). No output model is written.
/// </summary>
public sealed class MergeInterruptedException(long step, string statePath)
    : OperationCanceledException($"interrupted at step {step}; state saved to {statePath}; run the same command to resume")
{
    public long Step { get; } = step;
    public string StatePath { get; } = statePath;
}
