using System.Text;
using System.Text.Json;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

public class ShardedSafetensorsTests
{
    private const string T = "{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}";

    [Test]
    public void ShardedWriteReadRoundTrips()
    {
        using var dir = new TempDir();
        // 40 + 24 | 48 | 100 (over the limit: own shard) | 8 + 0  with a 64-byte limit.
        var tensors = new[]
        {
            Random("l0.w", DType.F32, [10], 1), Random("l0.b", DType.F64, [3], 2), Random("l1.w", DType.BF16, [4, 6], 3),
            Random("big", DType.U8, [100], 4), Random("l2.w", DType.I64, [1], 5), Random("empty", DType.F16, [0, 3], 6),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt" };
        try
        {
            ShardedSafetensorsWriter.WriteAll(dir.Path, tensors, maxShardBytes: 64, metadata);
            string[] shards = ["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"];
            Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(),
                Is.EqualTo(shards.Append("model.safetensors.index.json").Order()), "only final files, no temp files");

            // The index, read independently of our reader.
            using (var doc = JsonDocument.Parse(File.ReadAllBytes(dir.File("model.safetensors.index.json"))))
            {
                var map = doc.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
                Assert.That(map, Is.EquivalentTo(new Dictionary<string, string?>
                {
                    ["l0.w"] = shards[0], ["l0.b"] = shards[0], ["l1.w"] = shards[1], ["big"] = shards[2], ["l2.w"] = shards[3], ["empty"] = shards[3],
                }));
                Assert.That(doc.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64(), Is.EqualTo(tensors.Sum(t => t.ByteLength)));
            }

            using var source = SafetensorsSource.Open(dir.Path);
            Assert.That(source, Is.InstanceOf<ShardedSafetensors>());
            Assert.That(source.Names, Is.EqualTo(tensors.Select(t => t.Name)));
            Assert.That(source.Metadata["format"], Is.EqualTo("pt"));
            Assert.That(source.Metadata["total_size"], Is.EqualTo(tensors.Sum(t => t.ByteLength).ToString()));
            foreach (var expected in tensors)
            {
                using var actual = source.Get(expected.Name);
                Assert.That(actual.ShapeArray(), Is.EqualTo(expected.ShapeArray()));
                Assert.That(actual.DType, Is.EqualTo(expected.DType));
                Assert.That(actual.Bytes.ToArray(), Is.EqualTo(expected.Bytes.ToArray()), expected.Name);
            }
            using var shard = SafetensorsFile.Open(dir.File(shards[0]));
            Assert.That(shard.Metadata, Is.EquivalentTo(metadata));
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    [Test]
    public void IncompleteShardedWriteLeavesNoFiles()
    {
        using var dir = new TempDir();
        using (var w = new ShardedSafetensorsWriter(dir.Path, [new("a", DType.U8, 4), new SafetensorsDeclaration("b", DType.U8, 4)], maxShardBytes: 4))
        {
            w.WriteChunk("a", new byte[4]);
            Assert.That(w.ShardPaths, Has.Count.EqualTo(2));
        }
        Assert.That(Directory.GetFiles(dir.Path), Is.Empty);
    }

    [Test]
    public void ShardsInASubfolderAreFine()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("sub"));
        File.WriteAllBytes(dir.File("sub/a.safetensors"), Build("{\"a\":" + T + "}", [3, 4]));
        File.WriteAllText(dir.File("index.json"), "{\"weight_map\":{\"a\":\"sub/a.safetensors\"}}");
        using var source = SafetensorsSource.Open(dir.File("index.json"));
        using var a = source.Get("a");
        Assert.That(a.Bytes.ToArray(), Is.EqualTo(new byte[] { 3, 4 }));
        Assert.That(source.Metadata, Is.Empty);
    }

    private static IEnumerable<TestCaseData> BadIndexes()
    {
        TestCaseData Case(string name, string index, string expected) => new TestCaseData(index, expected).SetName(name);
        yield return Case("Dot-dot", "{\"weight_map\":{\"a\":\"../outside.safetensors\"}}", "must not contain '..'");
        yield return Case("Nested dot-dot", "{\"weight_map\":{\"a\":\"sub/../../outside.safetensors\"}}", "must not contain '..'");
        yield return Case("Absolute", "{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "relative path");
        yield return Case("Backslash", "{\"weight_map\":{\"a\":\"..\\\\x.safetensors\"}}", "relative path");
        yield return Case("Empty name", "{\"weight_map\":{\"a\":\"\"}}", "empty file name");
        yield return Case("Missing shard", "{\"weight_map\":{\"a\":\"nope.safetensors\"}}", "shard 'nope.safetensors': file does not exist");
        yield return Case("Link escaping", "{\"weight_map\":{\"a\":\"link.safetensors\"}}", "symbolic link leading outside");
        yield return Case("Folder link escaping", "{\"weight_map\":{\"a\":\"linkdir/a.safetensors\"}}", "symbolic link leading outside");
        yield return Case("No weight_map", "{\"metadata\":{}}", "missing 'weight_map'");
        yield return Case("weight_map value not string", "{\"weight_map\":{\"a\":1}}", "not a file name string");
        yield return Case("Duplicate weight_map key", "{\"weight_map\":{\"a\":\"a.safetensors\",\"a\":\"a.safetensors\"}}", "appears twice in weight_map");
        yield return Case("Malformed", "{\"weight_map\":", "malformed JSON");
        yield return Case("Not an object", "[]", "index is not a JSON object");
    }

    [TestCaseSource(nameof(BadIndexes))]
    public void BadIndexIsBadInput(string index, string expected)
    {
        using var outside = new TempDir();
        File.WriteAllBytes(outside.File("a.safetensors"), Build("{\"a\":" + T + "}", [1, 2]));
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("a.safetensors"), Build("{\"a\":" + T + "}", [1, 2]));
        File.CreateSymbolicLink(dir.File("link.safetensors"), outside.File("a.safetensors"));
        Directory.CreateSymbolicLink(dir.File("linkdir"), outside.Path);
        string path = dir.File("model.safetensors.index.json");
        File.WriteAllText(path, index);
        var e = Assert.Throws<BadInputException>(() => SafetensorsSource.Open(dir.Path).Dispose())!;
        Assert.That(e.Message, Does.StartWith(path + ": ").And.Contain(expected).And.Not.Contain("\n"));
    }

    [Test]
    public void LinkInsideTheFolderIsFine()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("a.safetensors"), Build("{\"a\":" + T + "}", [1, 2]));
        File.CreateSymbolicLink(dir.File("link.safetensors"), "a.safetensors");
        File.WriteAllText(dir.File("i.safetensors.index.json"), "{\"weight_map\":{\"a\":\"link.safetensors\"}}");
        using var source = SafetensorsSource.Open(dir.Path);
        using var a = source.Get("a");
        Assert.That(a.Bytes.ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
    }

    [Test]
    public void TensorMissingFromItsShardIsBadInputWhenTheShardOpens()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("s1.safetensors"), Build("{\"a\":" + T + "}", [1, 2]));
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\"}}");
        using var source = (ShardedSafetensors)SafetensorsSource.Open(dir.Path);
        Assert.That(() => source.Get("a"), Throws.TypeOf<BadInputException>().With.Message.Contains("tensor 'b' is mapped to shard 's1.safetensors' but is not in it"));
        Assert.That(() => source.Get("zzz"), Throws.TypeOf<BadInputException>().With.Message.Contains("no tensor 'zzz'"));
    }

    [Test]
    public void TensorInTwoShardsIsBadInput()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("s1.safetensors"), Build("{\"a\":" + T + "}", [1, 2]));
        File.WriteAllBytes(dir.File("s2.safetensors"), Build("{\"a\":" + T + ",\"b\":" + T.Replace("[0,2]", "[2,4]") + "}", [1, 2, 3, 4]));
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\"}}");
        using var source = (ShardedSafetensors)SafetensorsSource.Open(dir.Path);
        using (var a = source.Get("a")) Assert.That(a.Bytes.ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(() => source.ValidateAll(), Throws.TypeOf<BadInputException>().With.Message.Contains("tensor 'a' is in shard 's2.safetensors' and also in 's1.safetensors'"));
    }

    [Test]
    public void MalformedShardIsBadInputNamingTheShard()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("s1.safetensors"), Encoding.ASCII.GetBytes("junk"));
        File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\":{\"a\":\"s1.safetensors\"}}");
        using var source = SafetensorsSource.Open(dir.Path);
        Assert.That(() => source.Entry("a"), Throws.TypeOf<BadInputException>().With.Message.Contains("s1.safetensors: file is 4 bytes"));
    }
}
