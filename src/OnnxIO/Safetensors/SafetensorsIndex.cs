using System.Text.Encodings.Web;
using System.Text.Json;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// A sharded checkpoint's <c>model.safetensors.index.json</c> (the Hugging Face convention):
/// <c>{"metadata": {"total_size": N, ...}, "weight_map": {tensor: shard file}}</c>.
/// </summary>
public sealed record SafetensorsIndex(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<KeyValuePair<string, string>> WeightMap)
{
    public const string DefaultFileName = "model.safetensors.index.json";
    private const long MaxIndexBytes = 100_000_000;

    /// <summary>Reads and validates an index file; any problem is a <see cref="BadInputException"/> naming it.</summary>
    public static SafetensorsIndex Read(string path)
    {
        byte[] bytes;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (fs.Length > MaxIndexBytes) throw new BadInputException($"{path}: index is {fs.Length} bytes, over the {MaxIndexBytes}-byte limit");
            bytes = new byte[fs.Length];
            fs.ReadExactly(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read index: {SafetensorsHeaderParser.OneLine(e.Message)}", e);
        }
        return Parse(bytes, path);
    }

    internal static SafetensorsIndex Parse(ReadOnlySpan<byte> bytes, string path)
    {
        try
        {
            return ParseUnchecked(bytes, path);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that cannot be transcoded (e.g. a lone escaped surrogate).
            throw new BadInputException($"{path}: malformed JSON: {SafetensorsHeaderParser.OneLine(e.Message)}", e);
        }
    }

    private static SafetensorsIndex ParseUnchecked(ReadOnlySpan<byte> bytes, string path)
    {
        BadInputException Bad(string why) => new($"{path}: {why}");
        using (var doc = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 16 }))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad("index is not a JSON object");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var weightMap = new List<KeyValuePair<string, string>>();
            bool sawMap = false, sawMetadata = false;
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name == "metadata")
                {
                    if (sawMetadata) throw Bad("duplicate key 'metadata'");
                    sawMetadata = true;
                    if (p.Value.ValueKind == JsonValueKind.Null) continue;
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad("'metadata' is not an object");
                    foreach (var m in p.Value.EnumerateObject())
                        if (!metadata.TryAdd(m.Name, m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText()))
                            throw Bad($"duplicate metadata key {SafetensorsHeaderParser.Quote(m.Name)}");
                }
                else if (p.Name == "weight_map")
                {
                    if (sawMap) throw Bad("duplicate key 'weight_map'");
                    sawMap = true;
                    if (p.Value.ValueKind != JsonValueKind.Object) throw Bad("'weight_map' is not an object");
                    var seen = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var w in p.Value.EnumerateObject())
                    {
                        if (w.Value.ValueKind != JsonValueKind.String) throw Bad($"weight_map entry {SafetensorsHeaderParser.Quote(w.Name)} is not a file name string");
                        if (!seen.Add(w.Name)) throw Bad($"tensor {SafetensorsHeaderParser.Quote(w.Name)} appears twice in weight_map");
                        weightMap.Add(new(w.Name, w.Value.GetString()!));
                    }
                }
            }
            if (!sawMap) throw Bad("missing 'weight_map'");
            return new SafetensorsIndex(metadata, weightMap);
        }
    }

    /// <summary>Serialises the index; <paramref name="totalSize"/> becomes metadata.total_size (a number, as Hugging Face writes it).</summary>
    internal static byte[] Serialize(IReadOnlyDictionary<string, string>? metadata, long totalSize, IEnumerable<KeyValuePair<string, string>> weightMap)
    {
        using var ms = new MemoryStream();
        using (var json = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            foreach (var (k, v) in metadata ?? new Dictionary<string, string>())
                if (k != "total_size") json.WriteString(k, v);
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (k, v) in weightMap) json.WriteString(k, v);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        ms.WriteByte((byte)'\n');
        return ms.ToArray();
    }
}
