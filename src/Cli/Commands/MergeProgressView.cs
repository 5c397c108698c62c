using System.Globalization;
using Amalgam.Engine.Execution;
using Spectre.Console;

namespace Amalgam.Cli.Commands;

/// <summary>
/// Shows merge progress on stderr: a Spectre.Console bar (tensors done, GB/s, ETA) when stderr is a
/// terminal, otherwise a plain line at most every 2 s or 10 % (none in the first 2 s, so quick
/// merges and scripts see only the result).
/// </summary>
internal static class MergeProgressView
{
    public static T Run<T>(TextWriter error, Func<IProgress<MergeProgress>, T> work)
    {
        bool terminal = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error) && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
        if (!terminal) return work(new PlainLines(error));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("merge", maxValue: 1);
                result = work(new Sync(p =>
                {
                    task.MaxValue = Math.Max(1, p.BytesTotal);
                    task.Value = Math.Min(p.BytesRead, task.MaxValue);
                    task.Description = Markup.Escape(Describe(p));
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    internal static string Describe(MergeProgress p)
    {
        double seconds = Math.Max(p.Elapsed.TotalSeconds, 1e-3);
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.Pass}: {p.TensorsDone}/{p.TensorsTotal} tensors, {p.BytesRead / 1e9:F2} GB read, {p.BytesRead / 1e9 / seconds:F2} GB/s");
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to a thread pool).</summary>
    private sealed class Sync(Action<MergeProgress> report) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => report(value);
    }

    internal sealed class PlainLines(TextWriter error) : IProgress<MergeProgress>
    {
        private TimeSpan _last = TimeSpan.Zero;
        private double _lastFraction;

        public void Report(MergeProgress p)
        {
            if (p.Elapsed < TimeSpan.FromSeconds(2) || p.Pass is "start" or "done") return;
            if (p.Elapsed - _last < TimeSpan.FromSeconds(2) && p.Fraction - _lastFraction < 0.1) return;
            _last = p.Elapsed;
            _lastFraction = p.Fraction;
            double rate = p.BytesRead / Math.Max(p.Elapsed.TotalSeconds, 1e-3);
            string eta = rate > 0 ? TimeSpan.FromSeconds((p.BytesTotal - p.BytesRead) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"amalgam: {p.Fraction * 100:F0}% {Describe(p)}, ETA {eta}"));
        }
    }
}
