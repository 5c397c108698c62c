using System.Globalization;
using Spectre.Console;

namespace Amalgam.Cli.Commands;

/// <summary>What a progress report shows: work done of total (any unit), elapsed time, a description.</summary>
internal readonly record struct ProgressSnapshot(double Done, double Total, TimeSpan Elapsed, string Text, bool Silent = false)
{
    /// <summary>A warning printed at once as its own line "amalgam: warning: ..." (never throttled or overwritten).</summary>
    public string? Warning { get; init; }

    public double Fraction => Total > 0 ? Math.Clamp(Done / Total, 0, 1) : 0;
}

/// <summary>
/// Shows a long command's progress on stderr: a Spectre.Console bar (description, percentage, ETA)
/// when stderr is a terminal, otherwise a plain line at most every 2 s or 10 % (none in the first
/// 2 s, so quick runs and scripts see only the result). Warnings are printed as their own lines at once.
/// </summary>
internal static class ProgressView
{
    public static TResult Run<TProgress, TResult>(TextWriter error, string name, Func<TProgress, ProgressSnapshot> view, Func<IProgress<TProgress>, TResult> work)
    {
        bool terminal = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error) && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
        if (!terminal) return work(new PlainLines<TProgress>(error, view));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
        TResult result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(name, maxValue: 1);
                result = work(new Sync<TProgress>(p =>
                {
                    var s = view(p);
                    if (s.Warning is not null) console.WriteLine("amalgam: warning: " + s.Warning); // above the live bar
                    task.MaxValue = Math.Max(1, s.Total);
                    task.Value = Math.Min(s.Done, task.MaxValue);
                    task.Description = Markup.Escape(s.Text);
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to a thread pool).</summary>
    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    internal sealed class PlainLines<T>(TextWriter error, Func<T, ProgressSnapshot> view) : IProgress<T>
    {
        private TimeSpan _last = TimeSpan.Zero;
        private double _lastFraction;

        public void Report(T progress)
        {
            var p = view(progress);
            if (p.Warning is not null) error.WriteLine("amalgam: warning: " + p.Warning);
            if (p.Elapsed < TimeSpan.FromSeconds(2) || p.Silent) return;
            if (p.Elapsed - _last < TimeSpan.FromSeconds(2) && p.Fraction - _lastFraction < 0.1) return;
            _last = p.Elapsed;
            _lastFraction = p.Fraction;
            double rate = p.Done / Math.Max(p.Elapsed.TotalSeconds, 1e-3);
            string eta = rate > 0 ? TimeSpan.FromSeconds((p.Total - p.Done) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"amalgam: {p.Fraction * 100:F0}% {p.Text}, ETA {eta}"));
        }
    }
}
