using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Checkpoints;

public class CheckpointTests
{
    [TestCaseSource(typeof(Fixtures), nameof(Fixtures.Models))]
    public void OnnxInitializersMatchTorchParametersSavedBesideTheFixture(string name)
    {
        // The fixture script saved a few torch parameters as init.<initializer>: an independent copy.
        using var c = Checkpoint.Open(Fixtures.Onnx(name));
        using var io = SafetensorsSource.Open(Fixtures.Io(name));
        var saved = io.Names.Where(n => n.StartsWith("init.", StringComparison.Ordinal)).ToList();
        Assert.That(saved, Is.Not.Empty);
        Assert.That(c.Format, Is.EqualTo(CheckpointFormat.Onnx));
        foreach (string key in saved)
        {
            string init = key["init.".Length..];
            using var expected = io.Get(key);
            using var actual = c.Load(init);
            Assert.That(c.Info(init).Shape, Is.EqualTo(expected.ShapeArray()), init);
            Assert.That(actual.DType, Is.EqualTo(expected.DType), init);
            Assert.That(actual.Bytes.SequenceEqual(expected.Bytes), Is.True, init);
            Assert.That(actual.IsReadOnly, Is.True, $"{init}: a view of the mapped file, not a copy (as a safetensors checkpoint gives)");
        }
    }

    [Test]
    public void ExternalDataModelReadsLikeTheInlineOne()
    {
        using var external = Checkpoint.Open(Fixtures.Onnx(Fixtures.External));
        using var inline = Checkpoint.Open(Fixtures.Onnx("vit_tiny_op17"));
        Assert.That(((OnnxCheckpoint)external).UsesExternalData, Is.True);
        Assert.That(external.Tensors.Select(t => t.ToString()), Is.EqualTo(inline.Tensors.Select(t => t.ToString())));
        foreach (var t in inline.Tensors)
        {
            using var a = external.Load(t.Name);
            using var b = inline.Load(t.Name);
            Assert.That(a.Bytes.SequenceEqual(b.Bytes), Is.True, t.Name);
        }
        Assert.That(Checkpoint.Files(external).Count(), Is.EqualTo(2), "the model and its .data file");
    }

    [Test]
    public void SafetensorsSingleAndShardedGiveTheSameTensors()
    {
        using var dir = Fixtures.NewTempDir();
        var specs = TestModels.Mixed;
        var values = specs.Select((s, i) => Enumerable.Range(0, (int)s.Count).Select(j => (float)(i + j * 0.25)).ToArray()).ToArray();
        TestModels.Write(dir.File("one.safetensors"), specs, values);
        var tensors = specs.Select((s, i) => TestModels.Make(s, values[i])).ToList();
        Directory.CreateDirectory(dir.File("sharded"));
        ShardedSafetensorsWriter.WriteAll(dir.File("sharded"), tensors, maxShardBytes: 4096);
        tensors.ForEach(t => t.Dispose());

        using var single = Checkpoint.Open(dir.File("one.safetensors"));
        using var sharded = (SafetensorsCheckpoint)Checkpoint.Open(dir.File("sharded"));
        Assert.That(sharded.IsSharded, Is.True);
        Assert.That(sharded.ShardFiles.Count, Is.GreaterThan(1));
        Assert.That(sharded.MaxShardBytes, Is.EqualTo(70001 * 4), "e.big is alone in its shard and the largest");
        foreach (var (s, i) in specs.Select((s, i) => (s, i)))
        {
            Assert.That(single.Info(s.Name).DType, Is.EqualTo(s.DType));
            Assert.That(single.Info(s.Name).Shape, Is.EqualTo(s.Shape));
            using var a = single.Load(s.Name);
            using var b = sharded.Load(s.Name);
            Assert.That(a.IsReadOnly, Is.True, "zero-copy view of the mapping");
            Assert.That(b.Bytes.SequenceEqual(a.Bytes), Is.True);
            Assert.That(TestModels.ToDoubles(a), Is.EqualTo(values[i].Select(x => Ulp.Round(x, s.DType))));
        }
    }

    [Test]
    public void MissingOrUnknownPathsAreBadInputNamingThePath()
    {
        using var dir = Fixtures.NewTempDir();
        var missing = Assert.Throws<BadInputException>(() => Checkpoint.Open(dir.File("nope.safetensors")))!;
        Assert.That(missing.Message, Does.Contain("nope.safetensors"));
        File.WriteAllText(dir.File("model.bin"), "x");
        var unknown = Assert.Throws<BadInputException>(() => Checkpoint.Open(dir.File("model.bin")))!;
        Assert.That(unknown.Message, Does.Contain("model.bin").And.Contain("unknown model format"));
        File.WriteAllText(dir.File("broken.onnx"), "not protobuf at all, not at all");
        var broken = Assert.Throws<BadInputException>(() => Checkpoint.Open(dir.File("broken.onnx")))!;
        Assert.That(broken.Message, Does.Contain("broken.onnx"));
    }
}
