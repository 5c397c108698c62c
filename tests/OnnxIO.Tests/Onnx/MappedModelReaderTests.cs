using NUnit.Framework;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

/// <summary>
/// Loading an ONNX file over a mapping (raw_data not copied) gives the message protobuf's own parser gives
/// from the file's bytes, for every fixture (external data included) and for hand-written wire layouts the
/// exporters do not produce but protobuf allows: a repeated raw_data (the last wins), unknown fields at every
/// level, initializers interleaved with nodes, model fields after the graph. Layouts the scan does not take
/// (a second graph field, a group, a truncated length) fall back to the parser, so Load still equals it.
/// </summary>
public sealed class MappedModelReaderTests
{
    private static IEnumerable<string> AllModels => Fixtures.Models.Append(Fixtures.External);

    [TestCaseSource(nameof(AllModels))]
    public void FixturesReadOverTheMappingEqualTheParsersMessage(string name)
    {
        string path = Fixtures.Onnx(name);
        var expected = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var mapped = MappedModelReader.TryRead(path);
        Assert.That(mapped, Is.Not.Null, "the exporters' layout is scanned");
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(mapped, Is.EqualTo(expected));
        Assert.That(mapped!.ToByteArray(), Is.EqualTo(expected.ToByteArray()));
        Assert.That(OnnxModel.Load(path).Proto, Is.EqualTo(expected));
    }

    [Test]
    public void UnusualButValidLayoutsReadLikeTheParser()
    {
        var first = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[8]) };
        first.Dims.Add(2);
        byte[] tensor = Concat(first.ToByteArray(),
            Field(9, [1, 2, 3, 4, 5, 6, 7, 8]),                 // raw_data again: the last wins
            Field(1000, [42]),                                   // unknown length-delimited field
            Varint(1001 << 3), Varint(7));                       // unknown varint field
        var typed = new TensorProto { Name = "t", DataType = (int)TensorProto.Types.DataType.Float };
        typed.FloatData.Add([1f, 2f]);
        var node = new NodeProto { OpType = "Identity", Name = "n" };
        node.Input.Add("w");
        node.Output.Add("y");
        byte[] graph = Concat(Field(1, node.ToByteArray()), Field(5, tensor), Field(2, "g"u8.ToArray()), Field(5, typed.ToByteArray()),
            Field(5, new TensorProto { Name = "empty", DataType = 1 }.ToByteArray()), Field(1, node.ToByteArray()), Field(999, [9, 9]));
        byte[] model = Concat(Varint(1 << 3), Varint(8), Field(7, graph), Field(8, new OperatorSetIdProto { Version = 17 }.ToByteArray()),
            Field(2, "producer after the graph"u8.ToArray()));
        AssertReadsLikeTheParser(model, scanned: true);
        var parsed = ModelProto.Parser.ParseFrom(model);
        Assert.That(parsed.Graph.Initializer[0].RawData.ToByteArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }), "the test builds what it means to");

        // Not scanned, still loaded: a second graph field (protobuf merges the two), a group, a length past the end (an error either way).
        AssertReadsLikeTheParser(Concat(model, Field(7, Field(5, new TensorProto { Name = "w2", DataType = 1, RawData = ByteString.CopyFrom([1, 2, 3, 4]) }.ToByteArray()))), scanned: false);
        AssertReadsLikeTheParser(Concat(model, Varint(50 << 3 | 3), Varint(50 << 3 | 4)), scanned: false);
        AssertReadsLikeTheParser(Concat(Varint(7 << 3 | 2), Varint(100), graph[..10]), scanned: false);
    }

    private static void AssertReadsLikeTheParser(byte[] bytes, bool scanned)
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("m.onnx");
        File.WriteAllBytes(path, bytes);
        ModelProto? expected = null;
        string? error = null;
        try
        {
            expected = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = e.Message;
        }
        var mapped = MappedModelReader.TryRead(path);
        Assert.That(mapped is not null, Is.EqualTo(scanned), "scanned");
        if (mapped is not null) Assert.That(mapped, Is.EqualTo(expected));
        if (error is not null)
        {
            Assert.That(() => OnnxModel.Load(path), Throws.TypeOf<Kernels.BadInputException>().With.Message.Contain("not a valid ONNX model"));
            return;
        }
        Assert.That(OnnxModel.Load(path).Proto, Is.EqualTo(expected));
    }

    private static byte[] Field(int number, byte[] payload) => Concat(Varint((ulong)(number << 3 | 2)), Varint((ulong)payload.Length), payload);

    private static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        for (; v >= 0x80; v >>= 7) bytes.Add((byte)(v | 0x80));
        bytes.Add((byte)v);
        return [.. bytes];
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
