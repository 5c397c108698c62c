using System.Text.Json;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Merging;

/// <summary>One effective method parameter for the report, typed as JSON wants it.</summary>
/// <param name="Value">double, long, bool, string, or double[] for per-task values.</param>
public sealed record EffectiveParameter(string Name, object Value);

/// <summary>What a finished merge reports: the `--report` JSON's content.</summary>
public sealed class MergeResult
{
    public required string Method { get; init; }
    public required IReadOnlyList<EffectiveParameter> Parameters { get; init; }
    public required IReadOnlyList<string> Tasks { get; init; }

    /// <summary>Paths of the merged models written (one, or one per task with private parameters).</summary>
    public required IReadOnlyList<string> Outputs { get; init; }
    public required double Seconds { get; init; }
    public required long BytesRead { get; init; }
    public ulong Seed { get; init; }
    public int SharedTensors { get; init; }
    /// <summary>Distinct names of task-private tensors over all tasks (each task keeps its own values and shapes).</summary>
    public int PrivateTensors { get; init; }

    /// <summary>The method's own results (its WriteReport output) as a JSON object text.</summary>
    public required string MethodResultsJson { get; init; }

    /// <summary>Contract-level fields of the method (a JSON object text whose properties go at the report's top level, e.g. adamerging's `lambdas`, `loss`).</summary>
    public string TopLevelJson { get; init; } = "{}";

    /// <summary>The report: method, parameters, tasks, seconds, bytes_read, outputs, results.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteString("method", Method);
        w.WriteStartObject("parameters");
        foreach (var p in Parameters)
        {
            w.WritePropertyName(p.Name);
            switch (p.Value)
            {
                case double d: w.WriteNumberValue(d); break;
                case long l: w.WriteNumberValue(l); break;
                case bool b: w.WriteBooleanValue(b); break;
                case double[] a:
                    w.WriteStartArray();
                    foreach (double x in a) w.WriteNumberValue(x);
                    w.WriteEndArray();
                    break;
                default: w.WriteStringValue(p.Value.ToString()); break;
            }
        }
        w.WriteEndObject();
        w.WriteStartArray("tasks");
        foreach (string t in Tasks) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteNumber("seed", Seed);
        w.WriteNumber("seconds", Seconds);
        w.WriteNumber("bytes_read", BytesRead);
        w.WriteNumber("shared_tensors", SharedTensors);
        w.WriteNumber("private_tensors", PrivateTensors);
        w.WriteStartArray("outputs");
        foreach (string o in Outputs) w.WriteStringValue(o);
        w.WriteEndArray();
        w.WritePropertyName("results");
        using (var doc = JsonDocument.Parse(MethodResultsJson)) doc.WriteTo(w);
        using (var top = JsonDocument.Parse(TopLevelJson))
            foreach (var property in top.RootElement.EnumerateObject()) property.WriteTo(w);
        w.WriteEndObject();
    }

    public string ToJson(bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented })) WriteJson(w);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes the report to <paramref name="path"/> through a temp file and a rename.</summary>
    public void WriteReport(string path)
    {
        AtomicFile.WriteAllText(Path.GetFullPath(path), ToJson() + "\n");
    }
}
