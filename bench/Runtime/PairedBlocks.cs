using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Amalgam.Bench.Runtime;

/// <summary>
/// Two ways of doing the same call timed in blocks interleaved with each other (A's block, then B's,
/// alternating which goes first). Each pair of neighbouring blocks gives one ratio B/A; the median ratio
/// cancels the slow load swings of a shared machine far better than two separate measurements. The result
/// goes to a small file so the benchmark host (BenchmarkDotNet runs each benchmark in a child process) can
/// show it as a column.
/// </summary>
internal static class PairedBlocks
{
    public readonly record struct Result(double Ratio, double BaselineMicroseconds);

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Engine.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Median over <paramref name="blocks"/> pairs of (time of <paramref name="candidate"/> / time of <paramref name="baseline"/>), stored under <paramref name="key"/>.</summary>
    public static Result Compare(string key, Action baseline, Action candidate, int runsPerBlock, int blocks)
    {
        for (int i = 0; i < runsPerBlock; i++) { baseline(); candidate(); } // warm-up of both
        var ratios = new double[blocks];
        var baseTimes = new double[blocks];
        for (int b = 0; b < blocks; b++)
        {
            double tb, tc;
            if (b % 2 == 0) { tb = Time(baseline, runsPerBlock); tc = Time(candidate, runsPerBlock); }
            else { tc = Time(candidate, runsPerBlock); tb = Time(baseline, runsPerBlock); }
            ratios[b] = tc / tb;
            baseTimes[b] = tb / runsPerBlock * 1e6;
        }
        Array.Sort(ratios);
        Array.Sort(baseTimes);
        var result = new Result(ratios[blocks / 2], baseTimes[blocks / 2]);
        File.WriteAllText(ResultFile(key), JsonSerializer.Serialize(new[] { result.Ratio, result.BaselineMicroseconds }));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// {key}: baseline median {result.BaselineMicroseconds:F1} us per call, candidate/baseline median ratio {result.Ratio:F3} over {blocks} blocks"));
        return result;
    }

    public static Result? Read(string key)
    {
        string path = ResultFile(key);
        if (!File.Exists(path)) return null;
        var v = JsonSerializer.Deserialize<double[]>(File.ReadAllText(path))!;
        return new Result(v[0], v[1]);
    }

    private static double Time(Action action, int runs)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static string ResultFile(string key) => Path.Combine(Path.GetTempPath(), $"amalgam-paired-{key}.json");
}
