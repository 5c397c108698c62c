using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Commands;

/// <summary>`inspect` for a safetensors file or sharded checkpoint.</summary>
internal static class InspectSafetensors
{
    public static void Run(string path, bool json, TextWriter o)
    {
        using ISafetensorsSource source = SafetensorsSource.Open(path);
        if (source is ShardedSafetensors sharded) sharded.ValidateAll();
        var entries = source.Names.Select(source.Entry).ToList();
        long parameters = entries.Sum(e => e.ElementCount), bytes = entries.Sum(e => e.ByteLength);
        var metadata = source.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        int? shards = source is ShardedSafetensors s ? s.Shards.Count : null;
        if (json)
        {
            InspectCommand.WriteJson(o, w =>
            {
                w.WriteStartObject();
                w.WriteString("file", source.Path);
                w.WriteString("format", "safetensors");
                if (shards is int n) w.WriteNumber("shards", n);
                w.WriteStartArray("tensors");
                foreach (var e in entries)
                {
                    w.WriteStartObject();
                    w.WriteString("name", e.Name);
                    w.WriteString("dtype", e.DType.ShortName());
                    InspectCommand.WriteShape(w, e.Shape);
                    w.WriteNumber("parameters", e.ElementCount);
                    w.WriteNumber("bytes", e.ByteLength);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("total_parameters", parameters);
                w.WriteNumber("total_bytes", bytes);
                w.WriteStartObject("metadata");
                foreach (var (key, value) in metadata) w.WriteString(key, value);
                w.WriteEndObject();
                w.WriteEndObject();
            });
            return;
        }
        o.WriteLine($"{source.Path} (safetensors{(shards is int k ? $", {k} shards" : "")})");
        var table = new TextTable("tensor", "dtype", "shape", "parameters", "bytes") { RightAligned = { 3, 4 } };
        foreach (var e in entries)
            table.Add(e.Name, e.DType.ShortName(), Shapes.Format(e.Shape.AsSpan()), e.ElementCount.ToString("N0"), e.ByteLength.ToString("N0"));
        table.WriteTo(o);
        o.WriteLine($"{entries.Count} tensors, {parameters:N0} parameters, {bytes:N0} bytes ({InspectCommand.FormatBytes(bytes)})");
        foreach (var (key, value) in metadata) o.WriteLine($"metadata {key}: {value}");
    }
}
