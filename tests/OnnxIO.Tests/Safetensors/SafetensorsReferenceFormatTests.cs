using System.Buffers.Binary;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

/// <summary>Files laid out by hand the way other writers produce them, read by our reader.</summary>
public class SafetensorsReferenceFormatTests
{
    private static byte[] Data()
    {
        var data = new byte[12];
        BinaryPrimitives.WriteDoubleLittleEndian(data, 1.0);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), 0x3F80);  // bf16 1.0
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(10), 0xC000); // bf16 -2.0
        return data;
    }

    private static IEnumerable<TestCaseData> Headers()
    {
        const string compact = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},\"a\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}";
        yield return new TestCaseData(compact).SetName("Unpadded header");
        yield return new TestCaseData(compact + "     ").SetName("Space-padded header");
        yield return new TestCaseData("\n{ \"b\" : {\"shape\": [ 2 ], \"dtype\": \"BF16\", \"data_offsets\": [8, 12]},\n  \"__metadata__\": {\"format\": \"pt\"},\n  \"a\": {\"data_offsets\": [0, 8], \"dtype\": \"F64\", \"shape\": [], \"extra\": {\"ignored\": [1, 2]}}\n}\n")
            .SetName("Pretty-printed header with keys in other orders and an unknown key");
    }

    [TestCaseSource(nameof(Headers))]
    public void HandBuiltFileReads(string header)
    {
        using var dir = new TempDir();
        string path = dir.File("ref.safetensors");
        File.WriteAllBytes(path, Build(header, Data()));
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Metadata, Is.EquivalentTo(new Dictionary<string, string> { ["format"] = "pt" }));
        Assert.That(file.Names, Is.EqualTo(new[] { "b", "a" }), "header order");
        Assert.That(file.Entry("b"), Is.EqualTo(new SafetensorsEntry("b", DType.BF16, [2], 8, 12)));
        using var a = file.Get("a");
        using var b = file.Get("b");
        Assert.That(a.Rank, Is.Zero);
        Assert.That(a.Read<double>().ToArray(), Is.EqualTo(new[] { 1.0 }));
        Assert.That(b.ShapeArray(), Is.EqualTo(new long[] { 2 }));
        Assert.That(b.Read<ushort>().ToArray(), Is.EqualTo(new ushort[] { 0x3F80, 0xC000 }));
    }

    [Test]
    public void GapsBetweenTensorsAndTrailingBytesAreTolerated()
    {
        // The reference reader rejects holes; we only require ranges inside the buffer and disjoint.
        using var dir = new TempDir();
        string path = dir.File("gap.safetensors");
        var data = new byte[20];
        data[4] = 42;
        File.WriteAllBytes(path, Build("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]}}", data));
        using var file = SafetensorsFile.Open(path);
        using var x = file.Get("x");
        Assert.That(x.Bytes.ToArray(), Is.EqualTo(new byte[] { 42 }));
    }
}
