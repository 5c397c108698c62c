using System.CommandLine;
using System.Text.Json;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Commands;

/// <summary>`amalgam inspect FILE [--json]`: what a checkpoint holds.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "a .safetensors file, a model.safetensors.index.json, or a folder holding either" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of a table" };
        var command = new Command("inspect", "List every tensor of a checkpoint with dtype, shape and size, and the totals.") { file, json };
        command.SetAction(parsed =>
        {
            string path = parsed.GetValue(file)!;
            using ISafetensorsSource source = SafetensorsSource.Open(path);
            var entries = source.Names.Select(source.Entry).ToList();
            if (source is ShardedSafetensors sharded) sharded.ValidateAll();
            if (parsed.GetValue(json)) WriteJson(Console.Out, source, entries);
            else WriteTable(Console.Out, source, entries);
            return CommandRunner.Ok;
        });
        return command;
    }

    private static void WriteTable(TextWriter o, ISafetensorsSource source, IReadOnlyList<SafetensorsEntry> entries)
    {
        var rows = entries.Select(e => (e.Name, e.DType.ShortName(), Shapes.Format(e.Shape.AsSpan()), e.ElementCount.ToString("N0"), e.ByteLength.ToString("N0"))).ToList();
        string[] head = ["tensor", "dtype", "shape", "parameters", "bytes"];
        int[] width = head.Select(h => h.Length).ToArray();
        foreach (var r in rows)
        {
            width[0] = Math.Max(width[0], r.Item1.Length); width[1] = Math.Max(width[1], r.Item2.Length);
            width[2] = Math.Max(width[2], r.Item3.Length); width[3] = Math.Max(width[3], r.Item4.Length);
            width[4] = Math.Max(width[4], r.Item5.Length);
        }
        void Line(string a, string b, string c, string d, string e) =>
            o.WriteLine($"{a.PadRight(width[0])}  {b.PadRight(width[1])}  {c.PadRight(width[2])}  {d.PadLeft(width[3])}  {e.PadLeft(width[4])}");
        o.WriteLine($"{source.Path} (safetensors{(source is ShardedSafetensors s ? $", {s.Shards.Count} shards" : "")})");
        Line(head[0], head[1], head[2], head[3], head[4]);
        foreach (var r in rows) Line(r.Item1, r.Item2, r.Item3, r.Item4, r.Item5);
        long parameters = entries.Sum(e => e.ElementCount), bytes = entries.Sum(e => e.ByteLength);
        o.WriteLine($"{entries.Count} tensors, {parameters:N0} parameters, {bytes:N0} bytes ({FormatBytes(bytes)})");
        foreach (var (key, value) in source.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            o.WriteLine($"metadata {key}: {value}");
    }

    private static void WriteJson(TextWriter o, ISafetensorsSource source, IReadOnlyList<SafetensorsEntry> entries)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", source.Path);
            w.WriteString("format", "safetensors");
            if (source is ShardedSafetensors sharded) w.WriteNumber("shards", sharded.Shards.Count);
            w.WriteStartArray("tensors");
            foreach (var e in entries)
            {
                w.WriteStartObject();
                w.WriteString("name", e.Name);
                w.WriteString("dtype", e.DType.ShortName());
                w.WriteStartArray("shape");
                foreach (long d in e.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteNumber("parameters", e.ElementCount);
                w.WriteNumber("bytes", e.ByteLength);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("total_parameters", entries.Sum(e => e.ElementCount));
            w.WriteNumber("total_bytes", entries.Sum(e => e.ByteLength));
            w.WriteStartObject("metadata");
            foreach (var (key, value) in source.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(key, value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        o.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{bytes / (double)(1L << 10):F2} KiB",
        _ => $"{bytes} B",
    };
}
