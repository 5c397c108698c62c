using System.Text;
using System.Text.Json;

namespace Amalgam.Engine.Demo;

/// <summary>
/// results.json: the same numbers as the table, unrounded (accuracies as fractions in [0, 1]), with
/// the zoo, machine, timings, notes and every row's explicit settings, for scripts and plots.
/// </summary>
public static class ResultsJson
{
    public static string Render(DemoResults results)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            Write(w, results);
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static void Write(Utf8JsonWriter w, DemoResults r)
    {
        var s = r.Setup;
        w.WriteStartObject();
        w.WriteStartObject("zoo");
        w.WriteString("suite", s.Suite);
        w.WriteString("size", s.Size);
        w.WriteNumber("parameters", s.Parameters);
        w.WriteNumber("seed", s.Seed);
        w.WriteNumber("budget", s.Budget);
        w.WriteStartArray("tasks");
        foreach (string t in r.Tasks) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("test_samples");
        foreach (long n in s.TestSamples) w.WriteNumberValue(n);
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject("machine");
        w.WriteNumber("cores", s.Cores);
        w.WriteNumber("threads", s.Threads);
        w.WriteString("cpu", s.Cpu);
        w.WriteString("os", s.Os);
        w.WriteString("runtime", s.Runtime);
        w.WriteString("started_utc", s.StartedUtc);
        w.WriteEndObject();

        var t2 = r.Timings;
        w.WriteStartObject("seconds");
        w.WriteNumber("zoo", t2.Zoo);
        w.WriteNumber("baselines", t2.Baselines);
        w.WriteNumber("merges", t2.Merges);
        w.WriteNumber("evaluations", t2.Evaluations);
        w.WriteNumber("total", t2.Total);
        w.WriteEndObject();

        var individual = ResultsTable.Individual(r);
        w.WriteStartArray("rows");
        foreach (var row in r.Rows) WriteRow(w, r, row, individual);
        w.WriteEndArray();

        w.WriteStartArray("notes");
        foreach (string note in r.Notes) w.WriteStringValue(note);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteRow(Utf8JsonWriter w, DemoResults r, DemoRow row, DemoRow? individual)
    {
        w.WriteStartObject();
        w.WriteString("id", row.Id);
        w.WriteString("name", row.Name);
        w.WriteString("kind", row.Kind switch { RowKind.Pretrained => "pretrained", RowKind.Individual => "individual", _ => "merged" });
        if (row.Method is { } m) w.WriteString("method", m);
        w.WriteStartObject("settings");
        foreach (var (key, value) in row.Settings.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteString(key, value);
        w.WriteEndObject();
        if (row.Accuracies is { } acc)
        {
            w.WriteStartObject("accuracy");
            for (int t = 0; t < r.Tasks.Count; t++) w.WriteNumber(r.Tasks[t], acc[t]);
            w.WriteEndObject();
            Number(w, "average", ResultsTable.Average(row));
            Number(w, "normalized", ResultsTable.Normalized(row, individual));
        }
        Number(w, "merge_seconds", row.MergeSeconds);
        w.WriteNumber("eval_seconds", row.EvalSeconds);
        if (row.Failure is { } f) w.WriteString("failed", f);
        if (row.Warnings.Count > 0)
        {
            w.WriteStartArray("warnings");
            foreach (string warning in row.Warnings) w.WriteStringValue(warning);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is double v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }
}
