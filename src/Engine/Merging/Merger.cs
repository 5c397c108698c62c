using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// The library entry point: <c>Merger.Merge(new MergeRequest { Method = "ties", Base = ..., Models = [...], Out = ... })</c>.
/// Everything checkable is checked before any weight is merged (method and parameters, models,
/// output path); a <see cref="BadInputException"/> then names the option, file or tensor and no
/// output is left behind.
/// </summary>
public static class Merger
{
    public static MergeResult Merge(MergeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        var spec = MethodRegistry.Get(request.Method);
        if (request.Threads < 0) throw new BadInputException($"threads={request.Threads}: must be at least 1");
        if (request.Models.Count == 0) throw new BadInputException("no task models given (--model)");
        foreach (string name in request.PerTask.Keys)
            if (spec.Find(name) is not { Kind: ParameterKind.FloatPerTask })
                throw new BadInputException($"models[].parameters.{name}: {spec.Name} has no per-model parameter '{name}' (per-model: {string.Join(", ", spec.Parameters.Where(p => p.Kind == ParameterKind.FloatPerTask).Select(p => p.Name).DefaultIfEmpty("none"))})");
        var settings = new MergeSettings(spec, request.Models.Count, request.Set, request.Seed, request.PerTask);
        int oldThreads = Parallelism.MaxThreads;
        if (request.Threads > 0) Parallelism.MaxThreads = request.Threads;
        try
        {
            using var problem = MergeProblem.Open(request.Base, request.Models, request.Private);
            var method = spec.Create(settings);
            using var output = MergeOutput.Plan(problem, request.Out, request.OutputDType, method.PerTaskModels);
            method.Begin(problem);
            if (method.NeedsData) PrepareData(method, problem, request);
            var executor = new MergeExecutor(problem, method, output, request.Progress);
            executor.Run();
            method.Finish();
            return new MergeResult
            {
                Method = spec.Name,
                Parameters = Typed(spec, settings),
                Tasks = problem.TaskNames,
                Outputs = output.Models,
                Seconds = clock.Elapsed.TotalSeconds,
                BytesRead = executor.BytesRead,
                Seed = request.Seed,
                SharedTensors = problem.Shared.Count,
                PrivateTensors = problem.Private.SelectMany(t => t).Select(t => t.Name).Distinct().Count(),
                MethodResultsJson = MethodResults(method, method.WriteReport),
                TopLevelJson = MethodResults(method, method.WriteTopLevel),
            };
        }
        finally
        {
            Parallelism.MaxThreads = oldThreads;
        }
    }

    /// <summary>Checks a data-dependent method's inputs (ONNX models, one data file per task) and runs its data stage.</summary>
    private static void PrepareData(MergeMethod method, MergeProblem problem, MergeRequest request)
    {
        if (problem.Format != Checkpoints.CheckpointFormat.Onnx)
            throw new BadInputException($"--method {request.Method}: needs ONNX models (it runs them on ONNX Runtime); got {problem.Format} checkpoints");
        if (request.Data.Count != problem.K)
            throw new BadInputException($"--data: {request.Method} needs one data file per task model, in the same order ({problem.K} --model, {request.Data.Count} --data)");
        foreach (string d in request.Data)
            if (!File.Exists(d)) throw new BadInputException($"--data: file not found: {d}");
        method.Prepare(new MergeContext
        {
            Problem = problem,
            Data = request.Data,
            Out = request.Out,
            Seed = request.Seed,
            Device = request.Device,
            Progress = request.Progress,
            Cancellation = request.Cancellation,
        });
    }

    /// <summary>Effective parameter values typed by their declarations (numbers, bools, strings, per-task arrays).</summary>
    public static IReadOnlyList<EffectiveParameter> Typed(MethodSpec spec, MergeSettings settings) =>
        settings.Effective().Select(e => new EffectiveParameter(e.Name, spec.Find(e.Name)!.Kind switch
        {
            ParameterKind.Float => double.Parse(e.Value, CultureInfo.InvariantCulture),
            ParameterKind.Int => long.TryParse(e.Value, CultureInfo.InvariantCulture, out long l) ? l : e.Value, // or one of its words (cat's c=positive)
            ParameterKind.Bool => e.Value == "true",
            ParameterKind.FloatPerTask => e.Value.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray(),
            _ => (object)e.Value,
        })).ToArray();

    private static string MethodResults(MergeMethod method, Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
