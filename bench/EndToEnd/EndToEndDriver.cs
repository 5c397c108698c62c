using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Bench.EndToEnd;

/// <summary>
/// The issue's end-to-end figure: K fine-tuned safetensors models of N f32 parameters each (plus a
/// base), merged by the `amalgam` executable with each method; wall time and peak RSS of the child
/// (from /usr/bin/time -v). Not a BenchmarkDotNet suite: one run per method is the measurement.
///
///   dotnet run -c Release --project bench -- endtoend [--params 256M] [--k 8] [--dtype f32|bf16]
///       [--methods task_arithmetic,ties,dare_ties] [--amalgam artifacts/amalgam] [--dir /tmp/x] [--keep]
/// With --dtype bf16 the models are stored (and merged into) bf16: the values are the f32 ones rounded.
/// </summary>
internal static class EndToEndDriver
{
    public static int Run(string[] args)
    {
        long n = ParseCount(Arg(args, "--params") ?? "256M");
        int k = int.Parse(Arg(args, "--k") ?? "8", CultureInfo.InvariantCulture);
        string[] methods = (Arg(args, "--methods") ?? "task_arithmetic,ties,dare_ties").Split(',');
        string amalgam = Arg(args, "--amalgam") ?? FindAmalgam();
        DType dtype = (Arg(args, "--dtype") ?? "f32") switch
        {
            "f32" => DType.F32,
            "bf16" => DType.BF16,
            var other => throw new ArgumentException($"--dtype {other}: expected f32 or bf16"),
        };
        int size = dtype == DType.BF16 ? 2 : 4;
        bool keep = args.Contains("--keep");
        string dir = Arg(args, "--dir") ?? Directory.CreateTempSubdirectory("amalgam-e2e-").FullName;
        Directory.CreateDirectory(dir);
        try
        {
            var layout = Layout(n);
            long perModel = layout.Sum(t => t.Count) * size;
            Console.WriteLine($"end-to-end: K={k}, {layout.Sum(t => t.Count):N0} {dtype.ShortName()} parameters per model in {layout.Count} tensors ({perModel / 1e9:F2} GB), amalgam = {amalgam}, dir = {dir}");
            var gen = Stopwatch.StartNew();
            string suffix = dtype == DType.F32 ? "" : "." + dtype.ShortName();
            string basePath = Path.Combine(dir, $"base{suffix}.safetensors");
            if (!File.Exists(basePath)) WriteModel(basePath, layout, dtype, seed: 0, noise: false);
            var tasks = new List<string>();
            for (int i = 1; i <= k; i++)
            {
                string p = Path.Combine(dir, $"task{i}{suffix}.safetensors");
                if (!File.Exists(p)) WriteModel(p, layout, dtype, seed: (ulong)i, noise: true);
                tasks.Add(p);
            }
            Console.WriteLine($"generated in {gen.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine($"{"method",-16} {"wall s",8} {"GB/s read",10} {"peak RSS MB",12}  note");
            foreach (string method in methods)
            {
                string output = Path.Combine(dir, $"merged_{method}.safetensors");
                var argv = new List<string> { "-v", amalgam, "merge", "--method", method, "--base", basePath, "--out", output };
                foreach (string t in tasks) { argv.Add("--model"); argv.Add(t); }
                var (exit, stdout, stderr) = RunProcess("/usr/bin/time", argv);
                var wall = Regex.Match(stderr, @"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)");
                var rss = Regex.Match(stderr, @"Maximum resident set size \(kbytes\): (\d+)");
                if (exit != 0 || !wall.Success || !rss.Success)
                {
                    string first = stderr.Split('\n').FirstOrDefault(l => l.StartsWith("amalgam:")) ?? $"exit {exit}";
                    Console.WriteLine($"{method,-16} {"-",8} {"-",10} {"-",12}  {first}");
                    continue;
                }
                double seconds = ParseWall(wall.Groups[1].Value);
                double rssMb = long.Parse(rss.Groups[1].Value, CultureInfo.InvariantCulture) / 1024.0;
                Console.WriteLine($"{method,-16} {seconds,8:F2} {(k + 1) * perModel / 1e9 / seconds,10:F2} {rssMb,12:F0}  {stdout.Trim()}");
                File.Delete(output);
            }
            return 0;
        }
        finally
        {
            if (!keep && Arg(args, "--dir") is null) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A transformer-like layout (d = 1024): per layer q, k, v, o (d x d), MLP (d x 4d, 4d x d),
    /// biases and norms, until at least <paramref name="n"/> parameters.</summary>
    private static List<(string Name, long[] Shape, long Count)> Layout(long n)
    {
        const long d = 1024;
        var list = new List<(string, long[], long)>();
        long total = 0;
        void Add(string name, params long[] shape)
        {
            long c = shape.Aggregate(1L, (a, b) => a * b);
            list.Add((name, shape, c));
            total += c;
        }
        Add("embed.weight", 8192, d);
        for (int l = 0; total < n; l++)
        {
            string p = $"layers.{l}.";
            foreach (string m in new[] { "q", "k", "v", "o" }) { Add(p + $"attn.{m}.weight", d, d); Add(p + $"attn.{m}.bias", d); }
            Add(p + "norm1.weight", d); Add(p + "norm1.bias", d);
            Add(p + "mlp.up.weight", 4 * d, d); Add(p + "mlp.up.bias", 4 * d);
            Add(p + "mlp.down.weight", d, 4 * d); Add(p + "mlp.down.bias", d);
            Add(p + "norm2.weight", d); Add(p + "norm2.bias", d);
        }
        return list;
    }

    /// <summary>Streams one model to disk tensor by tensor (base: uniform in [-0.05, 0.05]; tasks: base + noise).</summary>
    private static void WriteModel(string path, List<(string Name, long[] Shape, long Count)> layout, DType dtype, ulong seed, bool noise)
    {
        using var w = new SafetensorsWriter(path, layout.Select(t => new SafetensorsDeclaration(t.Name, dtype, t.Shape)));
        var buffer = new float[1 << 20];
        var bf16 = new ushort[dtype == DType.BF16 ? buffer.Length : 0];
        var bytes = dtype == DType.BF16
            ? System.Runtime.InteropServices.MemoryMarshal.AsBytes(bf16.AsSpan())
            : System.Runtime.InteropServices.MemoryMarshal.AsBytes(buffer.AsSpan());
        int size = dtype == DType.BF16 ? 2 : 4;
        for (int ti = 0; ti < layout.Count; ti++)
        {
            var t = layout[ti];
            for (long done = 0; done < t.Count;)
            {
                int c = (int)Math.Min(buffer.Length, t.Count - done);
                for (int i = 0; i < c; i++)
                {
                    ulong idx = (ulong)ti << 40 | (ulong)(done + i);
                    float v = Uniform(Mix(idx)) * 0.05f;
                    if (noise) v += Uniform(Mix(idx ^ (seed * 0x9E3779B97F4A7C15UL))) * 0.005f;
                    buffer[i] = v;
                }
                if (dtype == DType.BF16) Convert16.SingleToBFloat16(buffer.AsSpan(0, c), bf16.AsSpan(0, c));
                w.WriteChunk(t.Name, bytes[..(c * size)]);
                done += c;
            }
        }
        w.Commit();
    }

    private static ulong Mix(ulong x)
    {
        // splitmix64 finaliser: a counter-based generator, so every model is reproducible.
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private static float Uniform(ulong r) => (r >> 40) / (float)(1UL << 24) * 2 - 1;

    private static (int, string, string) RunProcess(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, err.Result);
    }

    private static double ParseWall(string s)
    {
        double seconds = 0;
        foreach (string part in s.Split(':')) seconds = seconds * 60 + double.Parse(part, CultureInfo.InvariantCulture);
        return seconds;
    }

    private static long ParseCount(string s)
    {
        long scale = char.ToUpperInvariant(s[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1 };
        return long.Parse(scale == 1 ? s : s[..^1], CultureInfo.InvariantCulture) * scale;
    }

    private static string FindAmalgam()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            foreach (string candidate in new[] { "artifacts/amalgam", "src/Cli/bin/Release/net10.0/amalgam" })
            {
                string p = Path.Combine(d.FullName, candidate);
                if (File.Exists(p)) return p;
            }
        }
        throw new FileNotFoundException("amalgam executable not found; build it (./build.sh --target=Build) or pass --amalgam PATH");
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
