using System.CommandLine;
using System.Globalization;
using Amalgam.Engine.Evaluation;
using Amalgam.Kernels;

namespace Amalgam.Cli.Commands;

/// <summary>
/// `amalgam eval --model PATH --data INPUTS --labels LABELS [--json] [--batch-size N] [--threads N]`:
/// accuracy, mean cross-entropy and per-class accuracy of an ONNX classifier (<see cref="Evaluator"/>).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the ONNX classifier (one float output, logits [N, C])", Required = true };
        var data = new Option<string>("--data") { Description = "inputs: .npy (single-input models) or .safetensors with tensors named after the model's inputs; first axis = samples", Required = true };
        var labels = new Option<string>("--labels") { Description = ".npy of int64, one label in [0, C) per sample", Required = true };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of text" };
        var batch = new Option<int>("--batch-size") { Description = "samples per forward pass (results do not depend on it)", DefaultValueFactory = _ => 64 };
        var threads = new Option<int?>("--threads") { Description = "parallel single-threaded sessions (default: all cores); results do not depend on it" };
        var device = DeviceOption.Create("the forward passes");
        var command = new Command("eval", "Accuracy, mean cross-entropy and per-class accuracy of an ONNX classifier on labelled inputs.")
        {
            model, data, labels, json, batch, threads, device,
        };
        command.SetAction(parsed =>
        {
            int? t = parsed.GetValue(threads);
            if (t is < 1) throw new BadInputException($"--threads {t}: must be at least 1");
            var onDevice = DeviceOption.Resolve(parsed, device);
            var result = Evaluator.Evaluate(parsed.GetValue(model)!, parsed.GetValue(data)!, parsed.GetValue(labels)!,
                parsed.GetValue(batch), t ?? 0, onDevice);
            if (parsed.GetValue(json)) Console.Out.WriteLine(result.ToJson());
            else WriteText(Console.Out, result);
            return CommandRunner.Ok;
        });
        return command;
    }

    internal static void WriteText(TextWriter o, EvalResult r)
    {
        var c = CultureInfo.InvariantCulture;
        o.WriteLine(string.Create(c, $"accuracy  {r.Accuracy:F4} ({r.Correct}/{r.Count})"));
        o.WriteLine(string.Create(c, $"loss      {r.Loss:G6} (mean cross-entropy)"));
        o.WriteLine(string.Create(c, $"samples   {r.Count}"));
        o.WriteLine(string.Create(c, $"classes   {r.ClassCount}"));
        o.WriteLine();
        var table = new TextTable("class", "samples", "correct", "accuracy") { RightAligned = { 0, 1, 2, 3 } };
        for (int k = 0; k < r.ClassCount; k++)
            table.Add(k.ToString(c), r.PerClassCount[k].ToString(c), r.PerClassCorrect[k].ToString(c),
                r.PerClassCount[k] == 0 ? "-" : r.PerClassAccuracy[k].ToString("F4", c));
        table.WriteTo(o);
    }
}
