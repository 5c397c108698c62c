using System.Text.Json;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Tests.Commands;

[TestFixture]
public class InspectCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("amalgam-cli-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string WriteCheckpoint(string name)
    {
        string path = Path.Combine(_dir, name);
        using var a = Tensor.Allocate("encoder.weight", DType.BF16, [3, 5]);
        using var b = Tensor.Allocate("encoder.bias", DType.F32, [5]);
        using var c = Tensor.Allocate("scale", DType.F64, []);
        SafetensorsWriter.WriteAll(path, [a, b, c], new Dictionary<string, string> { ["format"] = "pt" });
        return path;
    }

    [Test]
    public void TableListsEveryTensorAndTheTotals()
    {
        string path = WriteCheckpoint("m.safetensors");
        var (exit, stdout, stderr) = CliHarness.Run("inspect", path);
        Assert.That(exit, Is.EqualTo(0), stderr);
        Assert.That(stdout, Does.Contain("encoder.weight").And.Contain("bf16").And.Contain("[3, 5]"));
        Assert.That(stdout, Does.Contain("encoder.bias").And.Contain("scale"));
        // 15 + 5 + 1 parameters; 15*2 + 5*4 + 8 bytes.
        Assert.That(stdout, Does.Contain("3 tensors, 21 parameters, 58 bytes"));
        Assert.That(stdout, Does.Contain("metadata format: pt"));
    }

    [Test]
    public void JsonHoldsTheSameFacts()
    {
        string path = WriteCheckpoint("m.safetensors");
        var (exit, stdout, _) = CliHarness.Run("inspect", path, "--json");
        Assert.That(exit, Is.EqualTo(0));
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("format").GetString(), Is.EqualTo("safetensors"));
        Assert.That(root.GetProperty("total_parameters").GetInt64(), Is.EqualTo(21));
        Assert.That(root.GetProperty("total_bytes").GetInt64(), Is.EqualTo(58));
        var tensors = root.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);
        Assert.That(tensors.Keys, Is.EquivalentTo(new[] { "encoder.weight", "encoder.bias", "scale" }));
        Assert.That(tensors["encoder.weight"].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), Is.EqualTo(new long[] { 3, 5 }));
        Assert.That(tensors["scale"].GetProperty("shape").GetArrayLength(), Is.EqualTo(0));
        Assert.That(root.GetProperty("metadata").GetProperty("format").GetString(), Is.EqualTo("pt"));
    }

    [Test]
    public void ShardedFolderIsInspectedAsOneCheckpoint()
    {
        string folder = Path.Combine(_dir, "sharded");
        Directory.CreateDirectory(folder);
        using var a = Tensor.Allocate("a", DType.F32, [100]);
        using var b = Tensor.Allocate("b", DType.F32, [100]);
        ShardedSafetensorsWriter.WriteAll(folder, [a, b], maxShardBytes: 400, metadata: null);
        var (exit, stdout, stderr) = CliHarness.Run("inspect", folder, "--json");
        Assert.That(exit, Is.EqualTo(0), stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.That(doc.RootElement.GetProperty("shards").GetInt32(), Is.EqualTo(2));
        Assert.That(doc.RootElement.GetProperty("total_parameters").GetInt64(), Is.EqualTo(200));
    }

    [Test]
    public void MissingFileIsBadInputWithOneLineNamingIt()
    {
        string path = Path.Combine(_dir, "nope.safetensors");
        var (exit, stdout, stderr) = CliHarness.Run("inspect", path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(stderr, Does.Contain("nope.safetensors"));
    }

    [Test]
    public void MalformedFileIsBadInput()
    {
        string path = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(path, [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{']);
        var (exit, _, stderr) = CliHarness.Run("inspect", path);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("bad.safetensors"));
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
    }

    [TestCase("")]
    [TestCase("inspect")]
    [TestCase("frobnicate")]
    [TestCase("inspect x --no-such-option")]
    public void BadUsageExits2WithOneLine(string commandLine)
    {
        var (exit, _, stderr) = CliHarness.Run(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
    }
}
