using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Amalgam.Bench.Runtime;

/// <summary>
/// ONNX Runtime's own Node binding running the same model (bench/Runtime/ort_node_loop.js in "serve"
/// mode, from the cached onnxruntime-node tarball), timed in blocks interleaved with blocks of our own
/// calls. Each pair of neighbouring blocks gives one ratio; the median ratio cancels the slow swings of a
/// shared machine far better than two separate measurements would. The result goes to a small file so
/// the benchmark host (BenchmarkDotNet runs each benchmark in a child process) can show it.
/// </summary>
internal sealed class NodeOrtReference : IDisposable
{
    private const string OrtVersion = "1.30.0";
    private readonly Process _node;

    private NodeOrtReference(Process node) => _node = node;

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Engine.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>
    /// Alternates <paramref name="blocks"/> node blocks with blocks of <paramref name="ours"/>, each of
    /// <paramref name="runsPerBlock"/> calls, and stores the median of ours/node and node's median block
    /// time under <paramref name="key"/>. Prints and stores nothing if node cannot run.
    /// </summary>
    public static void ComparePaired(string key, string model, string inputName, int batch, int threads, string level,
        Action ours, int runsPerBlock, int blocks)
    {
        File.Delete(ResultFile(key));
        try
        {
            using var node = Start(model, inputName, batch, threads, level, warmup: runsPerBlock);
            for (int i = 0; i < runsPerBlock; i++) ours(); // our warm-up, as node's above
            var ratios = new List<double>();
            var nodeTimes = new List<double>();
            for (int b = 0; b < blocks; b++)
            {
                // Alternate who goes first so a drift in machine load favours neither side.
                double oursUs, nodeUs;
                if (b % 2 == 0) { nodeUs = node.TimeMicroseconds(runsPerBlock); oursUs = Time(ours, runsPerBlock); }
                else { oursUs = Time(ours, runsPerBlock); nodeUs = node.TimeMicroseconds(runsPerBlock); }
                ratios.Add(oursUs / nodeUs);
                nodeTimes.Add(nodeUs);
            }
            double ratio = Median(ratios), nodeMedian = Median(nodeTimes);
            Directory.CreateDirectory(Path.GetDirectoryName(ResultFile(key))!);
            File.WriteAllText(ResultFile(key), string.Create(CultureInfo.InvariantCulture, $"{ratio:R} {nodeMedian:R}"));
            Console.WriteLine($"// onnxruntime-node {OrtVersion} paired with ours, {key}: node median {nodeMedian:F1} us per call, "
                + $"ours/node median {ratio:F3} over {blocks} block pairs of {runsPerBlock} runs (ratios {string.Join(" ", ratios.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))})");
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException)
        {
            Console.WriteLine($"// onnxruntime-node reference unavailable: {e.Message}");
        }
    }

    /// <summary>(median ours/node ratio, node's median microseconds per call) stored by <see cref="ComparePaired"/>.</summary>
    public static (double Ratio, double NodeMicroseconds)? Read(string key)
    {
        string file = ResultFile(key);
        if (!File.Exists(file)) return null;
        string[] parts = File.ReadAllText(file).Split(' ');
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    private static string ResultFile(string key) => Path.Combine(Path.GetTempPath(), "amalgam-ort-bench", $"node-{key}.txt");

    private static double Time(Action action, int runs)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < runs; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / runs;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static NodeOrtReference Start(string model, string inputName, int batch, int threads, string level, int warmup)
    {
        string script = Path.Combine(RepositoryRoot(), "bench", "Runtime", "ort_node_loop.js");
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { script, ExtractedPackage(), model, inputName, I(batch), I(threads), level, I(warmup), "serve" })
            start.ArgumentList.Add(a);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        return new NodeOrtReference(process);
    }

    private double TimeMicroseconds(int runs)
    {
        _node.StandardInput.WriteLine(I(runs));
        _node.StandardInput.Flush();
        string? line = _node.StandardOutput.ReadLine();
        if (line is null)
            throw new InvalidOperationException($"node stopped: {_node.StandardError.ReadToEnd().Trim()}");
        using var json = JsonDocument.Parse(line);
        return json.RootElement.GetProperty("meanMicroseconds").GetDouble();
    }

    private static string ExtractedPackage()
    {
        string cache = Environment.GetEnvironmentVariable("AMALGAM_CACHE") is { Length: > 0 } c
            ? c : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "amalgam");
        string tarball = Path.Combine(cache, "ort", OrtVersion, $"onnxruntime-node-{OrtVersion}.tgz");
        if (!File.Exists(tarball)) throw new IOException($"{tarball} is missing; run ./build.sh --target=Bootstrap");
        string target = Path.Combine(Path.GetTempPath(), $"amalgam-onnxruntime-node-{OrtVersion}");
        string package = Path.Combine(target, "package");
        if (!File.Exists(Path.Combine(package, "package.json")))
        {
            Directory.CreateDirectory(target);
            using var tar = Process.Start("tar", ["xzf", tarball, "-C", target]);
            tar.WaitForExit();
            if (tar.ExitCode != 0) throw new IOException($"tar could not extract {tarball}");
        }
        return package;
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        try
        {
            _node.StandardInput.WriteLine("0"); // tells the script to close its session and exit
            _node.StandardInput.Close();
            if (!_node.WaitForExit(10_000)) _node.Kill();
        }
        finally
        {
            _node.Dispose();
        }
    }
}
