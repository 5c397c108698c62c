using System.Diagnostics;
using System.Globalization;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Bench.AdaMerging;

/// <summary>
/// Time per AdaMerging step on real models, split into the trainer's phases (merge kernel, ONNX
/// Runtime forward + backward, gradient accumulation + reduction, optimiser) with the rest (batch
/// copies, bookkeeping) as the remainder. A step takes seconds on ViT-B/32, so one timed run is the
/// measurement (no BenchmarkDotNet):
///
///   dotnet run -c Release --project bench -- adamerging-step --base B.onnx --model T1.onnx ... --data D1.npy ...
///       [--private REGEX] [--steps 3] [--batch-size 16] [--batches-per-step 2] [--granularity layer|task] [--threads N] [--alternate]
///       [--memory shared|session|none] [--compare-memory] [--device cpu|cuda[:N]] [--step host|device]
/// The first step is reported apart (ORT's first run allocates its arenas). --alternate builds the
/// trainer for --threads workers and then alternates steps on 1 worker and on --threads workers,
/// reporting the median step time of each and their ratio: on a shared machine both see the same
/// load, so the ratio means more than two separate runs' times. Each step also reports the process's
/// user and system CPU seconds. --memory picks where ORT's intermediates live (the trainer's default
/// is the shared arena); --compare-memory runs the steps once without an arena (the setting before
/// issue 14) and once on the shared arena, one trainer after the other in this process, and prints
/// the ratios of step time and system time.
/// </summary>
internal static class AdaMergingStepDriver
{
    private static ComputeDevice s_device = ComputeDevice.Cpu;

    public static int Run(string[] args)
    {
        s_device = ComputeDevice.Parse(Arg(args, "--device") ?? "cpu");
        string @base = Arg(args, "--base") ?? throw new ArgumentException("--base is required");
        var models = All(args, "--model");
        var data = All(args, "--data");
        int steps = int.Parse(Arg(args, "--steps") ?? "3", CultureInfo.InvariantCulture);
        int batch = int.Parse(Arg(args, "--batch-size") ?? "16", CultureInfo.InvariantCulture);
        int perStep = int.Parse(Arg(args, "--batches-per-step") ?? "2", CultureInfo.InvariantCulture);
        var granularity = Arg(args, "--granularity") == "task" ? Granularity.Task : Granularity.Layer;
        if (Arg(args, "--threads") is { } t) Parallelism.MaxThreads = int.Parse(t, CultureInfo.InvariantCulture);
        var stepBackend = Arg(args, "--step") == "device" ? StepBackend.Device : StepBackend.Host;
        var options = new AdaMergingOptions(granularity, 0.3f, new AdamSettings(1e-3f), steps, batch, perStep, Shuffle: true, TiesPreprocess: false, 0.2, 0,
            Step: stepBackend);

        bool alternate = args.Contains("--alternate");
        using var problem = MergeProblem.Open(@base, models, Arg(args, "--private"));
        if (args.Contains("--compare-memory"))
        {
            var none = Steps(problem, data, options, CpuMemory.NoArena, steps);
            var shared = Steps(problem, data, options, CpuMemory.SharedArena, steps);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  shared arena vs no arena, steps 2..{steps}: step time {shared.Wall / none.Wall:F3}x, system CPU {shared.System / Math.Max(none.System, 1e-9):F3}x; system share of CPU {100 * none.System / (none.User + none.System):F1} % -> {100 * shared.System / (shared.User + shared.System):F1} %"));
            return 0;
        }
        var memory = Arg(args, "--memory") switch
        {
            null or "shared" => CpuMemory.SharedArena,
            "session" => CpuMemory.SessionArena,
            "none" => CpuMemory.NoArena,
            var other => throw new ArgumentException($"--memory {other}: expected shared, session or none"),
        };
        if (alternate)
        {
            using var trainer = Build(problem, data, options, memory);
            return Alternate(trainer, steps);
        }
        Steps(problem, data, options, memory, steps);
        return 0;
    }

    private static AdaMergingTrainer Build(MergeProblem problem, IReadOnlyList<string> data, AdaMergingOptions options, CpuMemory memory)
    {
        var clock = Stopwatch.StartNew();
        var trainer = AdaMergingTrainer.Create(problem, data, options, seed: 0, memory, s_device);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"adamerging-step ({memory}, {s_device}, step on {trainer.StepDevice ?? "host"}): K={problem.K}, {problem.Shared.Count} shared tensors, {problem.Shared.Sum(s => s.ElementCount):N0} shared parameters, {trainer.Raw.Length} coefficients, batch {options.BatchSize} x {options.BatchesPerStep} per task, {Parallelism.MaxThreads} threads; set-up {clock.Elapsed.TotalSeconds:F1} s"));
        return trainer;
    }

    /// <summary>Wall, user and system seconds summed over steps 2..N (step 1 grows ORT's arenas).</summary>
    private readonly record struct StepTotals(double Wall, double User, double System);

    private static StepTotals Steps(MergeProblem problem, IReadOnlyList<string> data, AdaMergingOptions options, CpuMemory memory, int steps)
    {
        using var trainer = Build(problem, data, options, memory);
        using var self = Process.GetCurrentProcess();
        PhaseTimes? afterFirst = null;
        double firstWall = 0, wall = 0, user = 0, system = 0;
        for (int s = 0; s < steps; s++)
        {
            self.Refresh();
            var (u0, s0) = (self.UserProcessorTime, self.PrivilegedProcessorTime);
            var step = Stopwatch.StartNew();
            double loss = trainer.Step();
            double seconds = step.Elapsed.TotalSeconds;
            self.Refresh();
            double u = (self.UserProcessorTime - u0).TotalSeconds, k = (self.PrivilegedProcessorTime - s0).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  step {s + 1}: {seconds:F3} s (CPU {u:F2} s user, {k:F2} s system), loss {loss:F4}"));
            if (s == 0) { firstWall = seconds; afterFirst = Copy(trainer.Times); }
            else (wall, user, system) = (wall + seconds, user + u, system + k);
        }
        var times = trainer.Times;
        int measured = steps - 1;
        if (measured < 1 || afterFirst is null)
        {
            Print("all steps", times.Merge, times.Runtime, times.Reduction, times.Optimizer, firstWall, 1);
            return new StepTotals(firstWall, double.NaN, double.NaN);
        }
        Print($"steps 2..{steps} (mean)", times.Merge - afterFirst.Merge, times.Runtime - afterFirst.Runtime,
            times.Reduction - afterFirst.Reduction, times.Optimizer - afterFirst.Optimizer, wall, measured);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    CPU per step: {user / measured:F2} s user, {system / measured:F2} s system ({100 * system / (user + system):F1} % system)"));
        return new StepTotals(wall, user, system);
    }

    private static int Alternate(AdaMergingTrainer trainer, int steps)
    {
        int many = Parallelism.MaxThreads;
        var times = new Dictionary<int, List<double>> { [1] = [], [many] = [] };
        trainer.Step(); // first run allocations
        for (int s = 1; s < steps; s++)
        {
            int threads = s % 2 == 1 ? 1 : many;
            Parallelism.MaxThreads = threads;
            var step = Stopwatch.StartNew();
            trainer.Step();
            times[threads].Add(step.Elapsed.TotalSeconds * 1e3);
        }
        Parallelism.MaxThreads = many;
        static double Median(List<double> x)
        {
            var o = x.Order().ToArray();
            return o.Length == 0 ? double.NaN : o.Length % 2 == 1 ? o[o.Length / 2] : (o[o.Length / 2 - 1] + o[o.Length / 2]) / 2;
        }
        double one = Median(times[1]), n = Median(times[many]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  alternating steps: 1 worker {one:F1} ms (median of {times[1].Count}), {many} workers {n:F1} ms (median of {times[many].Count}); speed-up {one / n:F2}x"));
        return 0;
    }

    private static void Print(string what, double merge, double runtime, double reduction, double optimizer, double wall, int steps)
    {
        double rest = wall - merge - runtime - reduction - optimizer;
        string Row(string name, double s) => string.Create(CultureInfo.InvariantCulture, $"    {name,-28} {s / steps * 1e3,10:F1} ms  {100 * s / wall,5:F1} %");
        Console.WriteLine($"  {what}: {wall / steps * 1e3:F1} ms per step");
        Console.WriteLine(Row("merge kernel", merge));
        Console.WriteLine(Row("ORT forward + backward", runtime));
        Console.WriteLine(Row("gradient accumulate + reduce", reduction));
        Console.WriteLine(Row("optimiser (Adam)", optimizer));
        Console.WriteLine(Row("rest (batch copies, ...)", rest));
    }

    private static PhaseTimes Copy(PhaseTimes t)
    {
        var c = new PhaseTimes();
        c.Add(t);
        return c;
    }

    private static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string[] All(string[] args, string name) =>
        args.Select((a, i) => (a, i)).Where(p => p.a == name && p.i + 1 < args.Length).Select(p => args[p.i + 1]).ToArray();
}
