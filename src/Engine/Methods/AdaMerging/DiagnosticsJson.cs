using System.Text.Json;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>One measurement of the collapse diagnostics as JSON (the merge report and the resumable state):
/// {"step": S, "tasks": [{"task", "samples", "classes", "mean_entropy", "marginal_entropy", "top_share", "top_class"}, ...]}.</summary>
internal static class DiagnosticsJson
{
    public static void Write(Utf8JsonWriter w, PredictionStats[] measurement)
    {
        w.WriteStartObject();
        w.WriteNumber("step", measurement.Length > 0 ? measurement[0].Step : 0);
        w.WriteStartArray("tasks");
        foreach (var s in measurement)
        {
            w.WriteStartObject();
            w.WriteString("task", s.Task);
            w.WriteNumber("samples", s.Samples);
            w.WriteNumber("classes", s.Classes);
            w.WriteNumber("mean_entropy", s.MeanEntropy);
            w.WriteNumber("marginal_entropy", s.MarginalEntropy);
            w.WriteNumber("top_share", s.TopShare);
            w.WriteNumber("top_class", s.TopClass);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static PredictionStats[] Read(JsonElement e)
    {
        long step = e.GetProperty("step").GetInt64();
        return e.GetProperty("tasks").EnumerateArray().Select(t => new PredictionStats(t.GetProperty("task").GetString() ?? "", step,
            t.GetProperty("samples").GetInt32(), t.GetProperty("classes").GetInt32(), t.GetProperty("mean_entropy").GetDouble(),
            t.GetProperty("marginal_entropy").GetDouble(), t.GetProperty("top_share").GetDouble(), t.GetProperty("top_class").GetInt32())).ToArray();
    }
}
