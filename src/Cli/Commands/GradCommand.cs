using System.CommandLine;
using System.Globalization;
using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Training;
using Amalgam.Kernels;

namespace Amalgam.Cli.Commands;

/// <summary>
/// `amalgam grad --model PATH --data INPUTS [--labels LABELS] --loss entropy|xent|sumsq
/// [--params REGEX] [--batch-size N] [--threads N] --out GRADS.safetensors` (the CLI contract in design.md).
/// </summary>
internal static class GradCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "the ONNX model", Required = true };
        var data = new Option<string>("--data") { Description = "inputs: .npy (single-input models) or .safetensors with tensors named after the model's inputs; first axis = samples", Required = true };
        var labels = new Option<string>("--labels") { Description = "labels for --loss xent: .npy of int64, one per sample" };
        var loss = new Option<string>("--loss") { Description = "entropy (mean softmax entropy), xent (mean cross-entropy with --labels), sumsq (half the sum of squares of the output, per sample)", Required = true };
        var @params = new Option<string>("--params") { Description = "regex of the initializers to differentiate (default: all float initializers)" };
        var batch = new Option<int>("--batch-size") { Description = "samples per forward/backward pass (the result is the mean over all samples whatever the size)", DefaultValueFactory = _ => 32 };
        var threads = new Option<int?>("--threads") { Description = "worker threads (default: all cores); the output does not depend on it" };
        var @out = new Option<string>("--out") { Description = "output .safetensors file: one gradient per parameter, named like the initializer", Required = true };
        var device = DeviceOption.Create("the gradient graphs");
        var command = new Command("grad", "Write the gradient of a loss, averaged over all given samples, with respect to the model's parameters.")
        {
            model, data, labels, loss, @params, batch, threads, device, @out,
        };
        command.SetAction(parsed =>
        {
            int? t = parsed.GetValue(threads);
            if (t is < 1) throw new BadInputException($"--threads {t}: must be at least 1");
            TextWriter err = Console.Error;
            var request = new GradRequest
            {
                Model = parsed.GetValue(model)!,
                Data = parsed.GetValue(data)!,
                Labels = parsed.GetValue(labels),
                Loss = parsed.GetValue(loss) switch
                {
                    "entropy" => GradientLoss.Entropy,
                    "xent" => GradientLoss.CrossEntropy,
                    "sumsq" => GradientLoss.HalfSumOfSquares,
                    var other => throw new BadInputException($"--loss {other}: unknown loss; expected entropy, xent or sumsq"),
                },
                Params = parsed.GetValue(@params),
                Out = parsed.GetValue(@out)!,
                BatchSize = parsed.GetValue(batch),
                Threads = t ?? 0,
                Device = DeviceOption.Resolve(parsed, device),
            };
            var result = GradProgressView.Run(err, progress => GradRunner.Run(request with { Progress = progress }));
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gradients of {result.Parameters} parameters ({result.Elements} values) over {result.Samples} samples, mean loss {result.MeanLoss:G6}, in {result.Seconds:F2} s -> {result.Out}"));
            return CommandRunner.Ok;
        });
        return command;
    }
}
