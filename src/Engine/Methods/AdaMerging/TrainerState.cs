using System.Globalization;
using System.Text.Json;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// The resumable state of an AdaMerging run, saved next to the output as
/// <c>&lt;out&gt;.adamerging-state.json</c> (temp file + rename): the steps taken, the raw
/// coefficients and Adam's moments as float bit patterns (a resumed run continues bit for bit), the
/// losses so far, and a fingerprint of everything that decides the trajectory (input files' paths,
/// sizes and times, options, seed). Batches are recomputed from the step count (see
/// <see cref="BatchSampler"/>), so no RNG state is needed.
/// </summary>
public sealed record TrainerState(string Fingerprint, long Step, float[] Raw, float[] FirstMoment, float[] SecondMoment, double[] Losses)
{
    /// <summary>The collapse diagnostics measured so far (<see cref="CollapseWatch.History"/>); none in states saved before they existed.</summary>
    public PredictionStats[][] Diagnostics { get; init; } = [];

    public const string Format = "amalgam-adamerging-state-1";

    /// <summary>The state file of a merge writing <paramref name="out"/> (a file or a folder).</summary>
    public static string PathFor(string @out) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(@out)) + ".adamerging-state.json";

    public void Save(string path)
    {
        string temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = File.Create(temp))
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("format", Format);
                w.WriteString("fingerprint", Fingerprint);
                w.WriteNumber("step", Step);
                Bits(w, "raw", Raw);
                Bits(w, "first_moment", FirstMoment);
                Bits(w, "second_moment", SecondMoment);
                w.WriteStartArray("losses");
                foreach (double l in Losses) w.WriteStringValue(BitConverter.DoubleToInt64Bits(l).ToString(CultureInfo.InvariantCulture));
                w.WriteEndArray();
                w.WriteStartArray("diagnostics");
                foreach (var measurement in Diagnostics) DiagnosticsJson.Write(w, measurement);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Reads a state file; a damaged one is a one-line BadInputException naming it.</summary>
    public static TrainerState Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            if (r.GetProperty("format").GetString() != Format) throw new FormatException("unknown format");
            return new TrainerState(r.GetProperty("fingerprint").GetString() ?? "", r.GetProperty("step").GetInt64(),
                FromBits(r.GetProperty("raw")), FromBits(r.GetProperty("first_moment")), FromBits(r.GetProperty("second_moment")),
                r.GetProperty("losses").EnumerateArray().Select(e => BitConverter.Int64BitsToDouble(long.Parse(e.GetString()!, CultureInfo.InvariantCulture))).ToArray())
            {
                Diagnostics = r.TryGetProperty("diagnostics", out var d) ? d.EnumerateArray().Select(DiagnosticsJson.Read).ToArray() : [],
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or OverflowException or ArgumentNullException)
        {
            throw new BadInputException($"{path}: not a readable AdaMerging state ({e.Message.ReplaceLineEndings(" ")}); delete it to start over", e);
        }
    }

    private static void Bits(Utf8JsonWriter w, string name, float[] values)
    {
        w.WriteStartArray(name);
        foreach (float v in values) w.WriteNumberValue(BitConverter.SingleToInt32Bits(v));
        w.WriteEndArray();
    }

    private static float[] FromBits(JsonElement e) => e.EnumerateArray().Select(x => BitConverter.Int32BitsToSingle(x.GetInt32())).ToArray();
}
