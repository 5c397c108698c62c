using System.Diagnostics;
using System.Globalization;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// Drives a trainer through the configured steps as a merge does: resumes from the state file next
/// to the output when one exists (refusing one written for other inputs or parameters), reports
/// each step (Pass "step", TensorsDone = step, Detail "loss X.XXXX" and the latest diagnostics'
/// largest top-class share, <see cref="CollapseWatch.Summary"/>), saves the state every
/// <c>checkpoint_every</c> steps, and on cancellation saves it and throws
/// <see cref="MergeInterruptedException"/>. The collapse diagnostics are measured at step 0, every
/// <c>checkpoint_every</c> steps and after the last step, kept in the state with the rest, and each
/// new warning goes out at once as a progress report's <see cref="MergeProgress.Warning"/> (a
/// resumed run repeats the warnings its saved measurements raised).
/// </summary>
internal static class AdaMergingRun
{
    public static CollapseWatch Run(AdaMergingTrainer trainer, AdaMergingOptions options, MergeContext context)
    {
        string statePath = TrainerState.PathFor(context.Out);
        string fingerprint = Fingerprint(options, context);
        var watch = new CollapseWatch(options.CollapseShare, options.Objective == Objective.InformationMaximisation);
        var clock = Stopwatch.StartNew();
        if (File.Exists(statePath))
        {
            var state = TrainerState.Load(statePath);
            Restore(trainer, state, fingerprint, statePath, options);
            foreach (var stats in state.Diagnostics) Warn(context, clock, trainer, options, watch.Add(stats));
        }
        if (trainer.StepsDone == 0 && watch.History.Count == 0) Diagnose(trainer, options, watch, context, clock);
        while (trainer.StepsDone < options.Steps)
        {
            if (context.Cancellation.IsCancellationRequested)
            {
                Snapshot(trainer, fingerprint, watch).Save(statePath);
                throw new MergeInterruptedException(trainer.StepsDone, statePath);
            }
            double loss = trainer.Step();
            context.Progress?.Report(new MergeProgress("step", (int)trainer.StepsDone, options.Steps, 0, 0, clock.Elapsed)
            {
                Detail = string.Create(CultureInfo.InvariantCulture, $"loss {loss:F4}") + (watch.Summary() is { } summary ? ", " + summary : ""),
            });
            bool checkpoint = options.CheckpointEvery > 0 && trainer.StepsDone % options.CheckpointEvery == 0;
            if (checkpoint || trainer.StepsDone == options.Steps) Diagnose(trainer, options, watch, context, clock);
            if (checkpoint && trainer.StepsDone < options.Steps)
                Snapshot(trainer, fingerprint, watch).Save(statePath);
        }
        return watch;
    }

    private static void Diagnose(AdaMergingTrainer trainer, AdaMergingOptions options, CollapseWatch watch, MergeContext context, Stopwatch clock)
    {
        if (trainer.Diagnose() is { } stats) Warn(context, clock, trainer, options, watch.Add(stats));
    }

    private static void Warn(MergeContext context, Stopwatch clock, AdaMergingTrainer trainer, AdaMergingOptions options, IReadOnlyList<string> warnings)
    {
        foreach (string w in warnings)
            context.Progress?.Report(new MergeProgress("step", (int)trainer.StepsDone, options.Steps, 0, 0, clock.Elapsed) { Warning = w });
    }

    /// <summary>Deletes the state after a successful merge.</summary>
    public static void Forget(string @out)
    {
        string path = TrainerState.PathFor(@out);
        if (File.Exists(path)) File.Delete(path);
    }

    private static TrainerState Snapshot(AdaMergingTrainer t, string fingerprint, CollapseWatch watch) =>
        new(fingerprint, t.StepsDone, (float[])t.Raw.Clone(), (float[])t.FirstMoment.Clone(), (float[])t.SecondMoment.Clone(), t.Losses.ToArray())
        {
            Diagnostics = watch.History.ToArray(),
        };

    private static void Restore(AdaMergingTrainer t, TrainerState s, string fingerprint, string path, AdaMergingOptions options)
    {
        if (s.Fingerprint != fingerprint)
            throw new BadInputException($"{path}: saved AdaMerging state belongs to other inputs or parameters; delete it to start over");
        if (s.Raw.Length != t.Raw.Length || s.FirstMoment.Length != t.Raw.Length || s.SecondMoment.Length != t.Raw.Length
            || s.Step < 0 || s.Step > options.Steps || s.Losses.Length != s.Step)
            throw new BadInputException($"{path}: saved AdaMerging state does not fit this run ({s.Raw.Length} coefficients, step {s.Step}); delete it to start over");
        s.Raw.CopyTo(t.Raw, 0);
        s.FirstMoment.CopyTo(t.FirstMoment, 0);
        s.SecondMoment.CopyTo(t.SecondMoment, 0);
        t.StepsDone = s.Step;
        t.Losses.Clear();
        t.Losses.AddRange(s.Losses);
    }

    /// <summary>Input files (path, size, write time), options except the step budget and checkpoint interval, seed.</summary>
    private static string Fingerprint(AdaMergingOptions options, MergeContext context)
    {
        var files = new List<string> { context.Problem.Base.Path };
        files.AddRange(context.Problem.Tasks.Select(t => t.Path));
        files.AddRange(context.Data);
        var parts = files.Select(f =>
        {
            var info = new FileInfo(f);
            return $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}";
        });
        return string.Join(";", parts) + ";" + options.Fingerprint() + ";seed=" + context.Seed + ";private=" + context.Problem.PrivatePattern;
    }
}
