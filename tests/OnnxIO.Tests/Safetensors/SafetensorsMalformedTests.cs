using System.Text;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

public class SafetensorsMalformedTests
{
    private const string T = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    /// <summary>Header JSON, data length, and a piece of the expected message.</summary>
    private static IEnumerable<TestCaseData> Headers()
    {
        TestCaseData Case(string name, string header, int data, string expected) => new TestCaseData(header, data, expected).SetName(name);
        yield return Case("Truncated JSON", "{\"a\":", 0, "malformed JSON");
        yield return Case("Trailing garbage", "{} x", 0, "malformed JSON");
        yield return Case("Comment", "{/*c*/}", 0, "malformed JSON");
        yield return Case("Not an object", "[1,2]", 0, "header is not a JSON object");
        yield return Case("Empty header", "", 0, "malformed JSON");
        yield return Case("Entry is a number", "{\"a\":5}", 0, "tensor 'a': entry is not an object");
        yield return Case("Dtype not string", "{\"a\":{\"dtype\":5,\"shape\":[],\"data_offsets\":[0,4]}}", 4, "tensor 'a': 'dtype' is not a string");
        yield return Case("Shape not array", "{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, "'shape' is not an array");
        yield return Case("Offsets hold strings", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}}", 8, "'data_offsets' holds a non-number");
        yield return Case("Three offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "more than 2 numbers");
        yield return Case("One offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "exactly two numbers");
        yield return Case("Missing dtype", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing 'dtype'");
        yield return Case("Missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing 'shape'");
        yield return Case("Missing offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing 'data_offsets'");
        yield return Case("Unknown dtype", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "unknown dtype 'F8_E4M3'");
        yield return Case("Negative dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "negative number -2");
        yield return Case("Fractional dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}", 8, "non-integer");
        yield return Case("Exponent dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", 8, "non-integer");
        yield return Case("Huge dim", "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}", 8, "too large");
        yield return Case("Element count overflow", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "too many elements");
        yield return Case("Byte count overflow", "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8, "too many elements");
        yield return Case("Offsets past data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "run past the end of the 8-byte data buffer");
        yield return Case("Begin after end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "begin 8 is after end 0");
        yield return Case("Size mismatch", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8, "span 4 bytes but F32 [2] needs 8");
        yield return Case("Overlap", "{\"a\":" + T + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap tensor 'a'");
        yield return Case("Duplicate name", "{\"a\":" + T + ",\"a\":" + T + "}", 8, "duplicate tensor name 'a'");
        yield return Case("Duplicate key", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "duplicate key 'dtype'");
        yield return Case("Metadata value not string", "{\"__metadata__\":{\"k\":1}}", 0, "metadata value of 'k' is not a string");
        yield return Case("Metadata not object", "{\"__metadata__\":[]}", 0, "'__metadata__' is not an object");
        yield return Case("Duplicate metadata", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key '__metadata__'");
        yield return Case("Too deep", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":[[[[[[[[[[1]]]]]]]]]]}}", 8, "malformed JSON");
        yield return Case("Lone surrogate", "{\"\\ud800\":" + T + "}", 8, "malformed JSON");
        yield return Case("Name with newline", "{\"a\\nb\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", 0, "tensor 'a\\u000ab': unknown dtype");
    }

    [TestCaseSource(nameof(Headers))]
    public void MalformedHeaderIsBadInput(string header, int dataLength, string expected) =>
        AssertBad(Build(header, new byte[dataLength]), expected);

    [Test]
    public void FileShorterThanEightBytes() => AssertBad([1, 2, 3], "file is 3 bytes, shorter than the 8-byte header length");

    [Test]
    public void EmptyFile() => AssertBad([], "file is 0 bytes");

    [Test]
    public void HeaderLengthOverLimit() => AssertBad(Build("{}", [], headerLengthOverride: 100_000_001), "exceeds the 100000000-byte limit");

    [Test]
    public void HeaderLengthRunsPastEndOfFile() => AssertBad(Build("{}", [], headerLengthOverride: 11), "header length 11 runs past the end of the 10-byte file");

    [Test]
    public void HeaderLengthHugeUnsigned() => AssertBad(Build("{}", [], headerLengthOverride: ulong.MaxValue), "exceeds the 100000000-byte limit");

    [Test]
    public void InvalidUtf8InAName()
    {
        byte[] header = [.. "{\""u8, 0xFF, 0xFE, .. "\":{}}"u8];
        AssertBad(Build(header, []), "malformed JSON");
    }

    [Test]
    public void MissingFileIsBadInput() =>
        Assert.That(() => SafetensorsFile.Open("/nonexistent/dir/m.safetensors"),
            Throws.TypeOf<BadInputException>().With.Message.Contains("/nonexistent/dir/m.safetensors"));

    [Test]
    public void AskingForAMissingTensorIsBadInput()
    {
        using var dir = new TempDir();
        string path = dir.File("m.safetensors");
        File.WriteAllBytes(path, Build("{\"a\":" + T + "}", new byte[8]));
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Contains("b"), Is.False);
        Assert.That(() => file.Get("b"), Throws.TypeOf<BadInputException>().With.Message.EqualTo($"{path}: no tensor 'b'"));
    }

    private static void AssertBad(byte[] bytes, string expected)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<BadInputException>(() => SafetensorsFile.Open(path).Dispose())!;
        Assert.That(e.Message, Does.StartWith(path + ": "));
        Assert.That(e.Message, Does.Contain(expected));
        Assert.That(e.Message, Does.Not.Contain("\n").And.Not.Contain("\r"));
    }
}
