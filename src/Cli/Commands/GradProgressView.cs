using System.Globalization;
using Amalgam.Engine.Training;
using Spectre.Console;

namespace Amalgam.Cli.Commands;

/// <summary>
/// Shows `amalgam grad` progress on stderr: a Spectre.Console bar when stderr is a terminal,
/// otherwise a plain line at most every 2 s or 10 % (none in the first 2 s, so quick runs and
/// scripts see only the result).
/// </summary>
internal static class GradProgressView
{
    public static T Run<T>(TextWriter error, Func<IProgress<GradProgress>, T> work)
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
                var task = ctx.AddTask("grad", maxValue: 1);
                result = work(new Sync(p =>
                {
                    task.MaxValue = Math.Max(1, p.SamplesTotal);
                    task.Value = Math.Min(p.SamplesDone, task.MaxValue);
                    task.Description = Markup.Escape(Describe(p));
                }));
                task.Value = task.MaxValue;
            });
        return result;
    }

    internal static string Describe(GradProgress p) =>
        string.Create(CultureInfo.InvariantCulture, $"grad: {p.SamplesDone}/{p.SamplesTotal} samples, {p.SamplesDone / Math.Max(p.Elapsed.TotalSeconds, 1e-3):F1} samples/s");

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to a thread pool).</summary>
    private sealed class Sync(Action<GradProgress> report) : IProgress<GradProgress>
    {
        public void Report(GradProgress value) => report(value);
    }

    internal sealed class PlainLines(TextWriter error) : IProgress<GradProgress>
    {
        private TimeSpan _last = TimeSpan.Zero;
        private double _lastFraction;

        public void Report(GradProgress p)
        {
            if (p.Elapsed < TimeSpan.FromSeconds(2) || p.SamplesDone >= p.SamplesTotal) return;
            if (p.Elapsed - _last < TimeSpan.FromSeconds(2) && p.Fraction - _lastFraction < 0.1) return;
            _last = p.Elapsed;
            _lastFraction = p.Fraction;
            double rate = p.SamplesDone / Math.Max(p.Elapsed.TotalSeconds, 1e-3);
            string eta = rate > 0 ? TimeSpan.FromSeconds((p.SamplesTotal - p.SamplesDone) / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";
            error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"amalgam: {p.Fraction * 100:F0}% {Describe(p)}, ETA {eta}"));
        }
    }
}
