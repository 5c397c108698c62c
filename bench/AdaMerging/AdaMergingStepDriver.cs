using System.Diagnostics;
using System.Globalization;
using Amalgam.Engine.AdaMerging;
using Amalgam.Engine.Problem;
using Amalgam.Kernels;
using Amalgam.Kernels.Optim;

namespace Amalgam.Bench.AdaMerging;

/// <summary>
/// Time per AdaMerging step on real models, split into the trainer's phases (merge kernel, ONNX
/// Runtime forward + backward, gradient accumulation + reduction, optimiser) with the rest (batch
/// copies, bookkeeping) as the remainder. A step takes seconds on ViT-B/32, so one timed run is the
/// measurement (no BenchmarkDotNet):
///
///   dotnet run -c Release --project bench -- adamerging-step --base B.onnx --model T1.onnx ... --data D1.npy ...
///       [--private REGEX] [--steps 3] [--batch-size 16] [--batches-per-step 2] [--granularity layer|task] [--threads N]
/// The first step is reported apart (ORT's first run allocates its arenas).
/// </summary>
internal static class AdaMergingStepDriver
{
    public static int Run(string[] args)
    {
        string @base = Arg(args, "--base") ?? throw new ArgumentException("--base is required");
        var models = All(args, "--model");
        var data = All(args, "--data");
        int steps = int.Parse(Arg(args, "--steps") ?? "3", CultureInfo.InvariantCulture);
        int batch = int.Parse(Arg(args, "--batch-size") ?? "16", CultureInfo.InvariantCulture);
        int perStep = int.Parse(Arg(args, "--batches-per-step") ?? "2", CultureInfo.InvariantCulture);
        var granularity = Arg(args, "--granularity") == "task" ? Granularity.Task : Granularity.Layer;
        if (Arg(args, "--threads") is { } t) Parallelism.MaxThreads = int.Parse(t, CultureInfo.InvariantCulture);
        var options = new AdaMergingOptions(granularity, 0.3f, new AdamSettings(1e-3f), steps, batch, perStep, Shuffle: true, TiesPreprocess: false, 0.2, 0);

        var clock = Stopwatch.StartNew();
        using var problem = MergeProblem.Open(@base, models, Arg(args, "--private"));
        using var trainer = AdaMergingTrainer.Create(problem, data, options, seed: 0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"adamerging-step: K={problem.K}, {problem.Shared.Count} shared tensors, {problem.Shared.Sum(s => s.ElementCount):N0} shared parameters, {trainer.Raw.Length} coefficients, batch {batch} x {perStep} per task, {Parallelism.MaxThreads} threads; set-up {clock.Elapsed.TotalSeconds:F1} s"));
        PhaseTimes? afterFirst = null;
        double firstWall = 0, wall = 0;
        for (int s = 0; s < steps; s++)
        {
            var step = Stopwatch.StartNew();
            double loss = trainer.Step();
            double seconds = step.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  step {s + 1}: {seconds:F3} s, loss {loss:F4}"));
            if (s == 0) { firstWall = seconds; afterFirst = Copy(trainer.Times); }
            else wall += seconds;
        }
        var times = trainer.Times;
        int measured = steps - 1;
        if (measured < 1 || afterFirst is null)
        {
            Print("all steps", times.Merge, times.Runtime, times.Reduction, times.Optimizer, firstWall, 1);
            return 0;
        }
        Print($"steps 2..{steps} (mean)", times.Merge - afterFirst.Merge, times.Runtime - afterFirst.Runtime,
            times.Reduction - afterFirst.Reduction, times.Optimizer - afterFirst.Optimizer, wall, measured);
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
