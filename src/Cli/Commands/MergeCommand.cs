using System.CommandLine;
using System.Globalization;
using System.Text;
using Amalgam.Engine.Config;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Commands;

/// <summary>
/// `amalgam merge --config merge.yaml [--out PATH]` or
/// `amalgam merge --method NAME --base PATH --model PATH [--model PATH ...] [--data PATH ...]
/// [--private REGEX] [--set KEY=VALUE ...] [--seed N] [--threads N] [--device cpu|cuda]
/// [--report FILE.json] --out PATH` (the CLI contract in design.md).
/// </summary>
internal static class MergeCommand
{
    /// <summary>Exit code after Ctrl-C (128 + SIGINT), state saved.</summary>
    public const int Interrupted = 130;

    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "a mergekit-style YAML file (merge_method, base_model, models, parameters, dtype, private, seed, out)" };
        var method = new Option<string>("--method") { Description = "merge method (see the list below)" };
        var @base = new Option<string>("--base") { Description = "the pretrained model (.onnx, .safetensors, index .json or folder)" };
        var model = new Option<string[]>("--model") { Description = "a fine-tuned model; repeat in task order" };
        var data = new Option<string[]>("--data") { Description = "unlabeled inputs per task, in --model order (data-dependent methods)" };
        var priv = new Option<string>("--private") { Description = "regex of task-private parameters (heads): never merged, each task keeps its own, of any shape; --out is then a folder with one model per task" };
        var set = new Option<string[]>("--set") { Description = "a method parameter, KEY=VALUE; repeatable" };
        var seed = new Option<ulong?>("--seed") { Description = "random seed (DARE masks)" };
        var threads = new Option<int?>("--threads") { Description = "worker threads (default: all cores); the output does not depend on it" };
        var device = DeviceOption.Create("the data-dependent methods' ONNX Runtime sessions");
        var report = new Option<string>("--report") { Description = "write a JSON report (method, parameters, tasks, seconds, results)" };
        var @out = new Option<string>("--out") { Description = "output model file (same format as the inputs), or folder with --private" };
        var command = new Command("merge", "Merge fine-tuned models into one multi-task model (methods and their parameters: amalgam merge --help).")
        {
            config, method, @base, model, data, priv, set, seed, threads, device, report, @out,
        };
        command.SetAction(parsed =>
        {
            TextWriter err = Console.Error;
            int? t = parsed.GetValue(threads);
            if (t is < 1) throw new BadInputException($"--threads {t}: must be at least 1");
            string[] dataPaths = parsed.GetValue(data) ?? [];
            MergeRequest request;
            if (parsed.GetValue(config) is { } configPath)
            {
                foreach (var (given, name) in new (bool, string)[]
                         {
                             (parsed.GetValue(method) is not null, "--method"), (parsed.GetValue(@base) is not null, "--base"),
                             ((parsed.GetValue(model) ?? []).Length > 0, "--model"), ((parsed.GetValue(set) ?? []).Length > 0, "--set"),
                             (parsed.GetValue(priv) is not null, "--private"), (parsed.GetValue(seed) is not null, "--seed"),
                         })
                    if (given) throw new BadInputException($"{name} cannot be combined with --config (put it in {configPath})");
                request = MergeConfig.Load(configPath).ToRequest(parsed.GetValue(@out));
            }
            else
            {
                request = new MergeRequest
                {
                    Method = parsed.GetValue(method) ?? throw new BadInputException("--method is required (or --config)"),
                    Base = parsed.GetValue(@base) ?? throw new BadInputException("--base is required (or --config)"),
                    Models = parsed.GetValue(model) is { Length: > 0 } m ? m : throw new BadInputException("at least one --model is required"),
                    Out = parsed.GetValue(@out) ?? throw new BadInputException("--out is required"),
                    Set = ParseSet(parsed.GetValue(set) ?? []),
                    Private = parsed.GetValue(priv),
                    Seed = parsed.GetValue(seed) ?? 0,
                };
            }
            var spec = MethodRegistry.Get(request.Method);
            // Data-dependent methods (regmean, fisher, cat, adamerging) use --data; the others ignore it.
            if (dataPaths.Length > 0 && !spec.NeedsData)
                err.WriteLine($"amalgam: warning: --data is ignored: {spec.Name} is training-free and needs no data");
            // Refused before anything is read or written when this build or machine cannot run CUDA.
            var onDevice = DeviceOption.Resolve(parsed, device);
            if (onDevice.IsCuda && !spec.NeedsData)
                err.WriteLine($"amalgam: warning: --device {onDevice} is ignored: {spec.Name} runs no model (its kernels run on the CPU)");
            string? reportPath = parsed.GetValue(report);
            if (reportPath is not null) AtomicFile.RequireFileInExistingFolder("--report", reportPath, "a .json");
            // Ctrl-C: a long data-dependent merge saves its state and stops (exit 130, no output);
            // a second Ctrl-C is left to the runtime and ends the process at once.
            using var interrupt = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                if (interrupt.IsCancellationRequested) return;
                e.Cancel = true;
                interrupt.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            MergeResult result;
            try
            {
                result = MergeProgressView.Run(err, progress => Merger.Merge(request with
                {
                    Threads = t ?? 0, Data = dataPaths, Device = onDevice, Progress = progress, Cancellation = interrupt.Token,
                }));
            }
            catch (MergeInterruptedException e)
            {
                err.WriteLine($"amalgam: {e.Message}");
                return Interrupted;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            if (reportPath is not null) result.WriteReport(reportPath);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"merged {result.Tasks.Count} models with {result.Method}: {result.SharedTensors} shared tensors, {result.BytesRead / 1e9:F3} GB read in {result.Seconds:F2} s -> {string.Join(", ", result.Outputs)}"));
            return CommandRunner.Ok;
        });
        return command;
    }

    /// <summary>KEY=VALUE pairs; a later KEY wins.</summary>
    internal static Dictionary<string, string> ParseSet(IEnumerable<string> pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in pairs)
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw new BadInputException($"--set {pair}: expected KEY=VALUE");
            values[pair[..eq].Trim()] = pair[(eq + 1)..];
        }
        return values;
    }

    /// <summary>Every registered method with its parameters, defaults and ranges (for --help).</summary>
    internal static string MethodHelp()
    {
        var sb = new StringBuilder("""
            What may differ between the models: the --base and every --model must have the same shared
            tensors (every tensor not matched by --private: names, dtypes, shapes) and, for ONNX, the same
            graph. Tensors matched by --private (a head per task) are each task's own: they may have other
            shapes in every task (its own class count), may be missing from the base (a headless backbone;
            the tasks' graphs are then compared with each other), and for ONNX graph inputs and outputs
            computed from them (the logits) may differ in their dimensions. Task k's output is task k's
            own file (graph, head, tensor order) with the merged shared tensors, and every method that
            runs models runs task k with its own graph and head.

            Methods (--method NAME; parameters with --set KEY=VALUE or YAML 'parameters'):
            """);
        foreach (var m in MethodRegistry.All)
        {
            sb.Append($"\n  {m.Name}: {m.Description}");
            foreach (var p in m.Parameters)
            {
                string range = p.RangeText.Length > 0 ? $" in {p.RangeText}" : "";
                string kind = p.Kind == ParameterKind.FloatPerTask ? "per task, " : "";
                sb.Append($"\n    {p.Name} ({kind}default {p.Default}{range}): {p.Description}");
            }
        }
        return sb.ToString();
    }
}
