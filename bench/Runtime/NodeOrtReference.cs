using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Amalgam.Bench.Runtime;

/// <summary>
/// Runs the same model through ONNX Runtime's own Node binding (bench/Runtime/ort_node_loop.js, from the
/// cached onnxruntime-node tarball) and keeps its mean time per call in a small file, so the benchmark
/// host can put it beside our numbers (BenchmarkDotNet runs the benchmarks in a child process).
/// </summary>
internal static class NodeOrtReference
{
    private const string OrtVersion = "1.30.0";

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no Engine.sln above {AppContext.BaseDirectory}");
    }

    private static string ResultFile(string key) =>
        Path.Combine(Path.GetTempPath(), "amalgam-ort-bench", $"node-{key}.json");

    /// <summary>
    /// Node's fastest block (of 20) mean microseconds per call, or null (with the reason printed) if node
    /// could not run.
    /// </summary>
    public static double? Measure(string key, string model, string inputName, int batch, int threads, string level, int warmup, int runs)
    {
        try
        {
            string package = ExtractedPackage();
            string script = Path.Combine(RepositoryRoot(), "bench", "Runtime", "ort_node_loop.js");
            string output = RunProcess("node", [script, package, model, inputName,
                batch.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), level,
                warmup.ToString(CultureInfo.InvariantCulture), runs.ToString(CultureInfo.InvariantCulture)]);
            using var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
            double micros = json.RootElement.GetProperty("minBlockMicroseconds").GetDouble();
            double median = json.RootElement.GetProperty("medianBlockMicroseconds").GetDouble();
            double mean = json.RootElement.GetProperty("meanMicroseconds").GetDouble();
            Directory.CreateDirectory(Path.GetDirectoryName(ResultFile(key))!);
            File.WriteAllText(ResultFile(key), micros.ToString("R", CultureInfo.InvariantCulture));
            Console.WriteLine($"// onnxruntime-node {OrtVersion}, {key}: min {micros:F1} us, median {median:F1} us, mean {mean:F1} us per call ({runs} runs)");
            return micros;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception or JsonException or KeyNotFoundException)
        {
            Console.WriteLine($"// onnxruntime-node reference unavailable: {e.Message}");
            File.Delete(ResultFile(key));
            return null;
        }
    }

    /// <summary>The node measurement written by <see cref="Measure"/> in this or another process.</summary>
    public static double? Read(string key)
    {
        string file = ResultFile(key);
        return File.Exists(file) ? double.Parse(File.ReadAllText(file), CultureInfo.InvariantCulture) : null;
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
            RunProcess("tar", ["xzf", tarball, "-C", target]);
        }
        return package;
    }

    private static string RunProcess(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}: {stderr.Result.Trim()}");
        return stdout;
    }
}
