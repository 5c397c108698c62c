using NUnit.Framework;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using FsCheck;
using FsCheck.Fluent;
using static Amalgam.OnnxIO.Tests.Onnx.OnnxModelRoundTripTests;

namespace Amalgam.OnnxIO.Tests.Onnx;

public class MalformedOnnxTests
{
    private static BadInputException LoadBytes(byte[] bytes)
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("bad.onnx");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<BadInputException>(() => OnnxModel.Load(path))!;
        Assert.That(e.Message, Does.Contain(path), "the message names the file");
        Assert.That(e.Message, Does.Not.Contain("\n"), "one line");
        return e;
    }

    [TestCase(0.5)]
    [TestCase(0.9)]
    [TestCase(0.999)]
    public void TruncatedFile(double keep)
    {
        byte[] full = File.ReadAllBytes(Fixtures.Onnx("roberta_tiny_op17"));
        LoadBytes(full[..(int)(full.Length * keep)]);
    }

    [Test]
    public void EmptyFileHasNoGraph() => Assert.That(LoadBytes([]).Message, Does.Contain("no graph"));

    [Test]
    public void MissingFile() =>
        Assert.That(() => OnnxModel.Load("/nonexistent/model.onnx"), Throws.TypeOf<BadInputException>().With.Message.Contain("/nonexistent/model.onnx"));

    [TestCase(6)]   // wire types 6 and 7 do not exist
    [TestCase(7)]
    [TestCase(4)]   // end-group with no group open
    public void InvalidWireType(int wireType) => LoadBytes([.. Tag(1, 0), 8, .. Tag(3, wireType), 0]);

    [Test]
    public void KnownFieldWithMismatchedWireTypeIsKeptAsUnknownNotMisread()
    {
        // ir_version (field 1) sent as fixed32: protobuf keeps it as an unknown field; the model then
        // fails only because it has no graph, never by misreading the bytes.
        Assert.That(LoadBytes([.. Tag(1, 5), 1, 2, 3, 4]).Message, Does.Contain("no graph"));
    }

    [TestCase(0x7FFF_FFFFUL)]
    [TestCase(0xFFFF_FFFF_FFUL)]
    [TestCase(100UL)]
    public void LengthPrefixPastTheEnd(ulong length) => LoadBytes([.. Tag(7, 2), .. Varint(length), 1, 2, 3]);

    [Test]
    public void OverlongVarint() => LoadBytes([.. Tag(1, 0), .. Enumerable.Repeat((byte)0xFF, 11), 1]);

    [Test]
    public void DeeplyNestedSubgraphs()
    {
        // graph -> node -> attribute.g -> graph ... 60 times: 180 levels, over the limit of 100.
        byte[] graph = [];
        for (int i = 0; i < 60; i++)
        {
            byte[] attribute = [.. Tag(6, 2), .. Varint((ulong)graph.Length), .. graph];
            byte[] node = [.. Tag(5, 2), .. Varint((ulong)attribute.Length), .. attribute];
            graph = [.. Tag(1, 2), .. Varint((ulong)node.Length), .. node];
        }
        byte[] model = [.. Tag(7, 2), .. Varint((ulong)graph.Length), .. graph];
        Assert.That(LoadBytes(model).Message, Does.Contain("not a valid ONNX model"));
    }

    [Test]
    public void ModeratelyNestedSubgraphsLoad()
    {
        byte[] graph = [];
        for (int i = 0; i < 20; i++)
        {
            byte[] attribute = [.. Tag(6, 2), .. Varint((ulong)graph.Length), .. graph];
            byte[] node = [.. Tag(5, 2), .. Varint((ulong)attribute.Length), .. attribute];
            graph = [.. Tag(1, 2), .. Varint((ulong)node.Length), .. node];
        }
        using var dir = Fixtures.NewTempDir();
        File.WriteAllBytes(dir.File("nested.onnx"), [.. Tag(7, 2), .. Varint((ulong)graph.Length), .. graph]);
        Assert.That(OnnxModel.Load(dir.File("nested.onnx")).Graph.Node, Has.Count.EqualTo(1));
    }

    [Test]
    public void DeeplyNestedUnknownGroups()
    {
        // 5000 nested start-group tags of an unknown field: skipping them must hit the recursion limit.
        byte[] open = Tag(99, 3), close = Tag(99, 4);
        var bytes = new List<byte>();
        for (int i = 0; i < 5000; i++) bytes.AddRange(open);
        for (int i = 0; i < 5000; i++) bytes.AddRange(close);
        LoadBytes(bytes.ToArray());
    }

    [Test]
    public void InvalidUtf8InAStringFieldIsReplacedNotThrown()
    {
        // producer_name (field 2) with bytes that are not UTF-8: protobuf decodes them to U+FFFD.
        byte[] graph = [.. Tag(2, 2), 1, (byte)'g'];
        byte[] model = [.. Tag(2, 2), 3, 0xFF, 0xC0, 0x80, .. Tag(7, 2), .. Varint((ulong)graph.Length), .. graph];
        using var dir = Fixtures.NewTempDir();
        File.WriteAllBytes(dir.File("utf8.onnx"), model);
        var loaded = OnnxModel.Load(dir.File("utf8.onnx"));
        Assert.That(loaded.Graph.Name, Is.EqualTo("g"));
        Assert.That(loaded.Proto.ProducerName, Does.Contain("\uFFFD"));
    }

    [Test]
    public void DuplicateInitializerNames()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op14"));
        model.Graph.Initializer.Add(model.Graph.Initializer[0].Clone());
        Assert.That(LoadBytes(Google.Protobuf.MessageExtensions.ToByteArray(model.Proto)).Message, Does.Contain(model.Graph.Initializer[0].Name));
    }

    /// <summary>Random byte changes to a fixture: loading, and then listing, reading and comparing
    /// every initializer, either works or throws BadInputException, nothing else.</summary>
    [Test]
    public void RandomByteMutationsGiveOnlyBadInput()
    {
        byte[] original = File.ReadAllBytes(Fixtures.Onnx("roberta_tiny_op14"));
        var reference = OnnxModel.Load(Fixtures.Onnx("roberta_tiny_op14"));
        var mutation = Gen.Zip(Gen.Choose(0, original.Length - 1), Gen.Choose(0, 255));
        // Mostly changes near the start, where the structure (graph, nodes) lives; some anywhere.
        var early = Gen.Zip(Gen.Choose(0, Math.Min(4096, original.Length - 1)), Gen.Choose(0, 255));
        var edits = Gen.ArrayOf(Gen.OneOf(mutation, early)).Where(a => a.Length > 0 && a.Length <= 8);
        int loaded = 0, rejected = 0;
        var property = Prop.ForAll(Arb.From(edits), changes =>
        {
            byte[] bytes = (byte[])original.Clone();
            foreach (var (pos, value) in changes) bytes[pos] = (byte)value;
            try
            {
                using var stream = new MemoryStream(bytes);
                var model = OnnxModel.Load(stream, Fixtures.Dir, "mutated.onnx");
                _ = OnnxModelComparer.Compare(reference, model);
                foreach (var info in model.ListInitializers())
                {
                    using var t = model.ReadInitializer(info.Name);
                }
                loaded++;
            }
            catch (BadInputException)
            {
                rejected++;
            }
            return true;
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300).WithReplay(Microsoft.FSharp.Core.FSharpOption<Replay>.Some(new Replay(new Rnd(42UL, 7UL), null))), property);
        TestContext.Out.WriteLine($"{loaded} mutated models loaded, {rejected} rejected");
        Assert.That(loaded + rejected, Is.EqualTo(300));
    }
}
