using System.CommandLine;
using System.Text.Json;

namespace Amalgam.Cli.Commands;

/// <summary>`amalgam inspect FILE [--json]`: what a checkpoint or model holds.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "an .onnx model, a .safetensors file, a model.safetensors.index.json, or a folder holding a safetensors checkpoint" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of a table" };
        var command = new Command("inspect", "List a model's tensors (dtype, shape, size) and totals; for ONNX also inputs, outputs, opsets and operator counts.") { file, json };
        command.SetAction(parsed =>
        {
            string path = parsed.GetValue(file)!;
            bool asJson = parsed.GetValue(json);
            if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) InspectOnnx.Run(path, asJson, Console.Out);
            else InspectSafetensors.Run(path, asJson, Console.Out);
            return CommandRunner.Ok;
        });
        return command;
    }

    /// <summary>Writes an indented JSON document built by <paramref name="build"/>.</summary>
    internal static void WriteJson(TextWriter o, Action<Utf8JsonWriter> build)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            build(w);
        o.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    internal static void WriteShape(Utf8JsonWriter w, IEnumerable<long> shape)
    {
        w.WriteStartArray("shape");
        foreach (long d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):F2} KiB",
        _ => $"{bytes} B",
    };
}
