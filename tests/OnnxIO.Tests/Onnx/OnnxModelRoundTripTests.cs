using NUnit.Framework;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

public class OnnxModelRoundTripTests
{
    private static IEnumerable<string> AllModels => Fixtures.Models;

    [TestCaseSource(nameof(AllModels))]
    public void LoadMatchesPlainProtobufParse(string name)
    {
        // Reference: protobuf's unbounded parser on the same bytes.
        var expected = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Onnx(name)));
        var model = OnnxModel.Load(Fixtures.Onnx(name));
        Assert.That(model.Proto, Is.EqualTo(expected));
        Assert.That(model.Graph.Node, Is.Not.Empty);
    }

    [TestCaseSource(nameof(AllModels))]
    public void ReadWriteReadKeepsEveryByte(string name)
    {
        using var dir = Fixtures.NewTempDir();
        byte[] original = File.ReadAllBytes(Fixtures.Onnx(name));
        var first = OnnxModel.Load(Fixtures.Onnx(name));
        string copy = dir.File("copy.onnx");
        first.Save(copy);
        var second = OnnxModel.Load(copy);

        Assert.That(second.Proto, Is.EqualTo(first.Proto));
        Assert.That(second.Proto.ToByteArray(), Is.EqualTo(first.Proto.ToByteArray()));
        // torch's exporter (C++ protobuf) writes fields in number order as we do, so the file is identical.
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(original));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1), "no temp or data file left behind");
    }

    [Test]
    public void FieldsThisProtoDoesNotKnowSurviveARoundTrip()
    {
        // Append field 99 (length-delimited) to ModelProto and field 77 (varint) to a NodeProto, as a
        // newer onnx.proto might; both must come back unchanged.
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op17")));
        var node = proto.Graph.Node[0];
        byte[] nodeBytes = [.. node.ToByteArray(), .. Tag(77, 0), 0x2A];
        proto.Graph.Node[0] = NodeProto.Parser.ParseFrom(nodeBytes);
        byte[] model = [.. proto.ToByteArray(), .. Tag(99, 2), 3, (byte)'a', (byte)'b', (byte)'c'];

        using var dir = Fixtures.NewTempDir();
        string path = dir.File("unknown.onnx");
        File.WriteAllBytes(path, model);
        var loaded = OnnxModel.Load(path);
        loaded.Save(dir.File("saved.onnx"));
        byte[] saved = File.ReadAllBytes(dir.File("saved.onnx"));

        Assert.That(saved, Is.EqualTo(model));
        Assert.That(loaded.Graph.Node[0].ToByteArray(), Is.EqualTo(nodeBytes));
    }

    [Test]
    public void SaveReplacesAnExistingFileAndFollowsTheNewPath()
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("m.onnx");
        File.WriteAllText(path, "old contents");
        var model = OnnxModel.Load(Fixtures.Onnx("roberta_tiny_op14"));
        model.Save(path);
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(File.ReadAllBytes(Fixtures.Onnx("roberta_tiny_op14"))));
        Assert.That(model.BaseDirectory, Is.EqualTo(dir.Path));
        Assert.That(model.DisplayName, Is.EqualTo(path));
    }

    /// <summary>Protobuf tag bytes (field number and wire type) as a varint.</summary>
    internal static byte[] Tag(int field, int wireType) => Varint(((ulong)field << 3) | (uint)wireType);

    internal static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            bytes.Add(v != 0 ? (byte)(b | 0x80) : b);
        } while (v != 0);
        return bytes.ToArray();
    }
}
