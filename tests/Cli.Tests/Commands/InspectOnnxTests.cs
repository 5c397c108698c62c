using System.Text.Json;
using Google.Protobuf;
using Onnx;

namespace Amalgam.Cli.Tests.Commands;

[TestFixture]
public class InspectOnnxTests
{
    private static ModelProto Parse(string name) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Onnx(name)));

    [TestCase("clip_tiny_op17")]
    [TestCase("roberta_tiny_op14")]
    public void JsonMatchesTheProtobuf(string name)
    {
        var (exit, stdout, stderr) = CliHarness.Run("inspect", Fixtures.Onnx(name), "--json");
        Assert.That(exit, Is.EqualTo(0), stderr);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        var proto = Parse(name);

        Assert.That(root.GetProperty("format").GetString(), Is.EqualTo("onnx"));
        Assert.That(root.GetProperty("opsets").GetProperty("ai.onnx").GetInt64(), Is.EqualTo(proto.OpsetImport.Single(o => o.Domain == "").Version));
        Assert.That(root.GetProperty("nodes").GetInt32(), Is.EqualTo(proto.Graph.Node.Count));
        // Per-op counts sum to the node count and agree with a direct count.
        var ops = root.GetProperty("ops").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.That(ops.Values.Sum(), Is.EqualTo(proto.Graph.Node.Count));
        Assert.That(ops["MatMul"], Is.EqualTo(proto.Graph.Node.Count(n => n.OpType == "MatMul")));
        // Parameters: product of dims over every initializer, computed here from the protobuf.
        long expected = proto.Graph.Initializer.Sum(t => t.Dims.Aggregate(1L, (a, d) => a * d));
        Assert.That(root.GetProperty("total_parameters").GetInt64(), Is.EqualTo(expected));
        Assert.That(root.GetProperty("total_bytes").GetInt64(), Is.EqualTo(4 * expected)); // all f32
        Assert.That(root.GetProperty("initializers").GetArrayLength(), Is.EqualTo(proto.Graph.Initializer.Count));
        var inputs = root.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()).ToList();
        Assert.That(inputs, Is.EqualTo(proto.Graph.Input.Select(i => i.Name).ToList()));
        var logits = root.GetProperty("outputs")[0];
        Assert.That(logits.GetProperty("name").GetString(), Is.EqualTo("logits"));
        Assert.That(logits.GetProperty("shape")[0].GetString(), Is.EqualTo("batch")); // symbolic batch axis
    }

    [Test]
    public void TableNamesInputsOutputsAndExternalInitializers()
    {
        var (exit, stdout, stderr) = CliHarness.Run("inspect", Fixtures.Onnx(Fixtures.External));
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("input pixel_values: f32 [batch, 3, 28, 28]"));
        Assert.That(stdout, Does.Contain("output logits: f32 [batch, 10]"));
        Assert.That(stdout, Does.Contain("(external)"));
    }

    [Test]
    public void TruncatedModelIsBadInputNamingTheFile()
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("cut.onnx");
        byte[] bytes = File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op17"));
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var (exit, stdout, stderr) = CliHarness.Run("inspect", path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Does.Contain("cut.onnx"));
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
    }
}
