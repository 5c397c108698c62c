using System.Collections.Immutable;
using System.Text.Json;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// Parses and validates the JSON header of a safetensors file
/// (https://github.com/huggingface/safetensors, "Format"):
/// <c>{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}</c>.
/// Every problem becomes a one-line <see cref="BadInputException"/> naming the file (and tensor).
/// Unknown keys inside a tensor object are ignored, as the reference (serde) reader does.
/// </summary>
internal static class SafetensorsHeaderParser
{
    /// <summary>The reference implementation's limit (MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>A sane bound on rank so a hostile header cannot make us build huge shape arrays.</summary>
    public const int MaxRank = 64;

    private static readonly JsonReaderOptions Options = new()
    {
        MaxDepth = 8, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false,
    };

    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        ReadOnlySpan<byte> json, long dataLength, string file)
    {
        var entries = new List<SafetensorsEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Bad(file, "header is not a JSON object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string key = reader.GetString()!;
                Next(ref reader);
                if (key == "__metadata__")
                {
                    if (sawMetadata) throw Bad(file, "duplicate key '__metadata__'");
                    sawMetadata = true;
                    ReadMetadata(ref reader, metadata, file);
                }
                else
                {
                    if (!names.Add(key)) throw Bad(file, $"duplicate tensor name {Quote(key)}");
                    entries.Add(ReadTensor(ref reader, key, file));
                }
            }
            if (reader.Read()) throw Bad(file, "unexpected content after the header's JSON object");
        }
        catch (JsonException e)
        {
            throw Bad(file, "malformed JSON: " + OneLine(e.Message), e);
        }
        catch (InvalidOperationException e)
        {
            // E.g. a string with an invalid escaped surrogate that cannot be transcoded.
            throw Bad(file, "malformed JSON: " + OneLine(e.Message), e);
        }
        CheckRanges(entries, dataLength, file);
        return (entries, metadata);
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        // Read() returns false only at the end of input; inside an object that means truncated JSON.
        if (!reader.Read()) throw new JsonException("unexpected end of the header");
        return reader.TokenType;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string file)
    {
        if (reader.TokenType == JsonTokenType.Null) return; // Option<HashMap> in the reference accepts null
        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(file, "'__metadata__' is not an object");
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            if (Next(ref reader) != JsonTokenType.String)
                throw Bad(file, $"metadata value of {Quote(key)} is not a string");
            if (!metadata.TryAdd(key, reader.GetString()!)) throw Bad(file, $"duplicate metadata key {Quote(key)}");
        }
    }

    private static SafetensorsEntry ReadTensor(ref Utf8JsonReader reader, string name, string file)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(file, name, "entry is not an object");
        DType? dtype = null;
        long[]? shape = null, offsets = null;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            string key = reader.GetString()!;
            Next(ref reader);
            switch (key)
            {
                case "dtype":
                    if (dtype is not null) throw Bad(file, name, "duplicate key 'dtype'");
                    if (reader.TokenType != JsonTokenType.String) throw Bad(file, name, "'dtype' is not a string");
                    string d = reader.GetString()!;
                    if (!DTypes.TryParseSafetensors(d, out DType t)) throw Bad(file, name, $"unknown dtype {Quote(d)}");
                    dtype = t;
                    break;
                case "shape":
                    if (shape is not null) throw Bad(file, name, "duplicate key 'shape'");
                    shape = ReadIntegers(ref reader, "shape", MaxRank, file, name);
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Bad(file, name, "duplicate key 'data_offsets'");
                    offsets = ReadIntegers(ref reader, "data_offsets", 2, file, name);
                    if (offsets.Length != 2) throw Bad(file, name, "'data_offsets' must have exactly two numbers [begin, end]");
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null) throw Bad(file, name, "missing 'dtype'");
        if (shape is null) throw Bad(file, name, "missing 'shape'");
        if (offsets is null) throw Bad(file, name, "missing 'data_offsets'");
        long begin = offsets[0], end = offsets[1];
        if (begin > end) throw Bad(file, name, $"data_offsets begin {begin} is after end {end}");
        if (!Shapes.TryElementCount(shape, out long count) || count > long.MaxValue / dtype.Value.Size())
            throw Bad(file, name, $"shape {Shapes.Format(shape)} has too many elements");
        long bytes = count * dtype.Value.Size();
        if (end - begin != bytes)
            throw Bad(file, name, $"data_offsets [{begin}, {end}] span {end - begin} bytes but {dtype.Value.SafetensorsName()} {Shapes.Format(shape)} needs {bytes}");
        return new SafetensorsEntry(name, dtype.Value, shape.ToImmutableArray(), begin, end);
    }

    /// <summary>A JSON array of at most <paramref name="max"/> non-negative integers.</summary>
    private static long[] ReadIntegers(ref Utf8JsonReader reader, string what, int max, string file, string name)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Bad(file, name, $"'{what}' is not an array");
        var values = new List<long>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number) throw Bad(file, name, $"'{what}' holds a non-number");
            if (!reader.TryGetInt64(out long v)) throw Bad(file, name, $"'{what}' holds a non-integer or too large number");
            if (v < 0) throw Bad(file, name, $"'{what}' holds a negative number {v}");
            if (values.Count == max) throw Bad(file, name, $"'{what}' has more than {max} numbers");
            values.Add(v);
        }
        return values.ToArray();
    }

    /// <summary>Every range must lie inside the data buffer, and non-empty ranges must not overlap.</summary>
    private static void CheckRanges(List<SafetensorsEntry> entries, long dataLength, string file)
    {
        foreach (var e in entries)
            if (e.End > dataLength)
                throw Bad(file, e.Name, $"data_offsets [{e.Begin}, {e.End}] run past the end of the {dataLength}-byte data buffer");
        var byBegin = entries.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < byBegin.Count; i++)
            if (byBegin[i].Begin < byBegin[i - 1].End)
                throw Bad(file, byBegin[i].Name, $"data_offsets [{byBegin[i].Begin}, {byBegin[i].End}] overlap tensor {Quote(byBegin[i - 1].Name)} [{byBegin[i - 1].Begin}, {byBegin[i - 1].End}]");
    }

    public static BadInputException Bad(string file, string problem, Exception? inner = null) =>
        inner is null ? new($"{file}: {problem}") : new($"{file}: {problem}", inner);

    public static BadInputException Bad(string file, string tensor, string problem) =>
        new($"{file}: tensor {Quote(tensor)}: {problem}");

    /// <summary>A name quoted for a one-line message: control characters escaped, long names cut.</summary>
    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder("'");
        foreach (char c in s.Length > 200 ? s[..200] : s)
            sb.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString());
        if (s.Length > 200) sb.Append("...");
        return sb.Append('\'').ToString();
    }

    public static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
