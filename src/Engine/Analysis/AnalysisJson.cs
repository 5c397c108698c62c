using System.Text;
using System.Text.Json;

namespace Amalgam.Engine.Analysis;

/// <summary>
/// `amalgam analyze --json`: one object with the tasks, the overall statistics, one entry per shared
/// tensor and the private tensors left out. Undefined values (NaN: a zero norm, no entry non-zero in
/// both task vectors) are written as null, since JSON has no NaN.
/// </summary>
public static class AnalysisJson
{
    public static string Write(TaskVectorAnalysis analysis, string basePath)
    {
        ArgumentNullException.ThrowIfNull(analysis);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("base", basePath);
            w.WriteStartArray("tasks");
            foreach (string t in analysis.Tasks) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WritePropertyName("overall");
            Layer(w, analysis.Overall);
            w.WriteStartArray("layers");
            foreach (var layer in analysis.Layers) Layer(w, layer);
            w.WriteEndArray();
            w.WriteStartArray("skipped_private");
            foreach (string s in analysis.Skipped) w.WriteStringValue(s);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Layer(Utf8JsonWriter w, LayerAnalysis layer)
    {
        w.WriteStartObject();
        w.WriteString("name", layer.Name);
        w.WriteNumber("elements", layer.Elements);
        w.WritePropertyName("base_norm");
        Number(w, layer.BaseNorm);
        Row(w, "task_vector_norm", layer.TaskNorms);
        Row(w, "relative_norm", [.. layer.TaskNorms.Select((_, k) => layer.RelativeNorm(k))]);
        w.WriteStartArray("cosine");
        foreach (var row in layer.Cosine) Row(w, null, row);
        w.WriteEndArray();
        w.WriteStartArray("sign_conflict");
        foreach (var row in layer.SignConflict) Row(w, null, row);
        w.WriteEndArray();
        w.WritePropertyName("mean_pair_cosine");
        Number(w, LayerAnalysis.PairMean(layer.Cosine));
        w.WritePropertyName("mean_pair_sign_conflict");
        Number(w, LayerAnalysis.PairMean(layer.SignConflict));
        w.WriteEndObject();
    }

    private static void Row(Utf8JsonWriter w, string? name, double[] values)
    {
        if (name is null) w.WriteStartArray();
        else w.WriteStartArray(name);
        foreach (double v in values) Number(w, v);
        w.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter w, double v)
    {
        if (double.IsFinite(v)) w.WriteNumberValue(v);
        else w.WriteNullValue();
    }
}
