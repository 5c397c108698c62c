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
    [TestCaseSource(typeof(Fixtures), nameof(Fixtures.ModelsAndExternal))]
    public void FixturesReadOverTheMappingEqualTheParsersMessage(string name)
    {
        string path = Fixtures.Onnx(name);
        var expected = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var mapped = Read(path);
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
            Field(5, new TensorProto { Name = "empty", DataType = 1 }.ToByteArray()), Field(1, node.ToByteArray()), Field(999, [9, 9]),
            Field(5, Concat(new TensorProto { Name = "zero-length raw_data", DataType = 1 }.ToByteArray(), Field(9, []))));
        byte[] model = Concat(Varint(1 << 3), Varint(8), Field(7, graph), Field(8, new OperatorSetIdProto { Version = 17 }.ToByteArray()),
            Field(2, "producer after the graph"u8.ToArray()));
        AssertReadsLikeTheParser(model, scanned: true);
        var parsed = ModelProto.Parser.ParseFrom(model);
        Assert.That(parsed.Graph.Initializer[0].RawData.ToByteArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }), "the test builds what it means to");
        Assert.That(parsed.Graph.Initializer[3].HasRawData, Is.True);
        using (var dir = Fixtures.NewTempDir())
        {
            File.WriteAllBytes(dir.File("m.onnx"), model);
            var read = Read(dir.File("m.onnx"))!;
            Assert.That(read.Graph.Initializer[3].HasRawData, Is.True, "a zero-length raw_data is present");
            Assert.That(read.Graph.Initializer[2].HasRawData, Is.False);
        }

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
        var mapped = Read(path);
        Assert.That(mapped is not null, Is.EqualTo(scanned), "scanned");
        if (mapped is not null)
        {
            Assert.That(mapped, Is.EqualTo(expected));
            Assert.That(mapped.ToByteArray(), Is.EqualTo(expected!.ToByteArray()), "presence of fields too (an empty raw_data is written, an absent one is not)");
        }
        if (error is not null)
        {
            Assert.That(() => OnnxModel.Load(path), Throws.TypeOf<Kernels.BadInputException>().With.Message.Contain("not a valid ONNX model"));
            return;
        }
        Assert.That(OnnxModel.Load(path).Proto, Is.EqualTo(expected));
    }

    /// <summary>
    /// Every truncation of a small fixture and a few hundred single-byte changes: the scan never throws, and
    /// returns null or the parser's message (null whenever the parser rejects the bytes).
    /// </summary>
    [Test]
    public void DamagedFilesNeverThrowAndReadLikeTheParserOrNotAtAll()
    {
        byte[] original = File.ReadAllBytes(Fixtures.Onnx("clip_tiny_op17"));
        var rng = new Random(11);
        var cases = Enumerable.Range(0, 300).Select(_ => original[..rng.Next(1, original.Length)]).ToList();
        for (int i = 0; i < 300; i++)
        {
            var damaged = (byte[])original.Clone();
            damaged[rng.Next(damaged.Length)] = (byte)rng.Next(256);
            cases.Add(damaged);
        }
        using var dir = Fixtures.NewTempDir();
        int scanned = 0, rejected = 0;
        for (int c = 0; c < cases.Count; c++)
        {
            string path = dir.File($"d{c}.onnx");
            File.WriteAllBytes(path, cases[c]);
            ModelProto? expected = null;
            try
            {
                expected = ModelProto.Parser.ParseFrom(cases[c]);
            }
            catch (InvalidProtocolBufferException)
            {
                rejected++;
            }
            ModelProto? mapped = null;
            Assert.DoesNotThrow(() => mapped = Read(path), $"case {c}");
            if (mapped is null) continue;
            scanned++;
            Assert.That(expected, Is.Not.Null, $"case {c}: the parser rejects it, the scan must not return a model");
            Assert.That(mapped, Is.EqualTo(expected), $"case {c}");
        }
        Assert.That(rejected, Is.GreaterThan(100), "the damage is often fatal");
        Assert.That(scanned, Is.GreaterThan(50), "and often only in the weights");
    }

    /// <summary>A model read from a pipe (say `--model &lt;(zcat model.onnx.gz)`): not mappable, parsed as a stream.</summary>
    [Test]
    public void ModelFromAPipeLoads()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("named pipes via mkfifo");
        using var dir = Fixtures.NewTempDir();
        string fifo = dir.File("pipe.onnx");
        using (var mk = System.Diagnostics.Process.Start("mkfifo", fifo)) mk.WaitForExit();
        byte[] bytes = File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op14"));
        var writer = Task.Run(() => File.WriteAllBytes(fifo, bytes));
        var model = OnnxModel.Load(fifo);
        writer.Wait();
        Assert.That(model.Proto, Is.EqualTo(ModelProto.Parser.ParseFrom(bytes)));
    }

    private static ModelProto? Read(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return MappedModelReader.TryRead(fs, path);
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
