using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Merging;

namespace Amalgam.Bench.Cat;

/// <summary>
/// CAT end to end on the ViT-B/32-shaped models (bench/models/make_vitb32.py): K task models, 2
/// exemplars each, through <see cref="Merger.Merge"/>; prints the wall time split into features
/// (ORT runs), G_k (Gram products), eigen-decompositions, projections and the rest (loading,
/// task arithmetic, writing), from the method's own phase timers. Not a BenchmarkDotNet suite: one
/// run is the measurement.
///
///   dotnet run -c Release --project bench -- cat-e2e [--dir ~/.cache/amalgam/bench/vitb32] [--k 8] [--samples 2] [--set c=4]
/// </summary>
internal static class CatEndToEnd
{
    public static int Run(string[] args)
    {
        string dir = Arg(args, "--dir") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "amalgam", "bench", "vitb32");
        int k = int.Parse(Arg(args, "--k") ?? "8", CultureInfo.InvariantCulture);
        var set = new Dictionary<string, string> { ["samples"] = Arg(args, "--samples") ?? "2" };
        if (Arg(args, "--set") is { } kv) set[kv.Split('=')[0]] = kv.Split('=', 2)[1];
        string @out = Path.Combine(Path.GetTempPath(), $"cat-e2e-{Environment.ProcessId}");
        var clock = Stopwatch.StartNew();
        try
        {
            var result = Merger.Merge(new MergeRequest
            {
                Method = "cat", Base = Path.Combine(dir, "base.onnx"),
                Models = Enumerable.Range(1, k).Select(i => Path.Combine(dir, $"task_{i}.onnx")).ToList(),
                Data = Enumerable.Range(1, k).Select(i => Path.Combine(dir, $"data_{i}.npy")).ToList(),
                Private = @"^heads\.", Set = set, Out = @out,
            });
            double total = clock.Elapsed.TotalSeconds;
            var s = JsonDocument.Parse(result.MethodResultsJson).RootElement.GetProperty("seconds");
            double f = s.GetProperty("features").GetDouble(), g = s.GetProperty("grams").GetDouble(),
                e = s.GetProperty("eigen").GetDouble(), p = s.GetProperty("projections").GetDouble();
            Console.WriteLine($"cat end to end: K={k}, {set["samples"]} samples per task, {dir}");
            Console.WriteLine($"{"phase",-14} {"seconds",9} {"share",7}");
            foreach (var (name, v) in new[] { ("features", f), ("G_k (grams)", g), ("eigen", e), ("projections", p), ("rest", total - f - g - e - p), ("total", total) })
                Console.WriteLine($"{name,-14} {v,9:F2} {v / total,7:P1}");
            return 0;
        }
        finally
        {
            if (Directory.Exists(@out)) Directory.Delete(@out, recursive: true);
        }
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
