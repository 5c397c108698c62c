using NUnit.Framework;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

public class ExternalDataTests
{
    [Test]
    public void ExternalModelReadsTheSameValuesAsTheInlineModel()
    {
        // onnx.save_model wrote the external variant from vit_tiny_op17; both must give the same tensors.
        var inline = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        var external = OnnxModel.Load(Fixtures.Onnx(Fixtures.External));
        var infos = external.ListInitializers();
        Assert.That(infos, Is.Not.Empty);
        Assert.That(infos.All(i => i.IsExternal), Is.True);
        Assert.That(infos.Select(i => i.Name), Is.EqualTo(inline.ListInitializers().Select(i => i.Name)));
        foreach (var info in infos)
        {
            using var a = inline.ReadInitializer(info.Name);
            using var b = external.ReadInitializer(info.Name);
            Assert.That(b.Shape.ToArray(), Is.EqualTo(a.Shape.ToArray()), info.Name);
            Assert.That(b.Bytes.ToArray(), Is.EqualTo(a.Bytes.ToArray()), info.Name);
        }
    }

    [Test]
    public void SavingTheExternalModelInlineReproducesTheOriginalFile()
    {
        using var dir = Fixtures.NewTempDir();
        var external = OnnxModel.Load(Fixtures.Onnx(Fixtures.External));
        external.Save(dir.File("inline.onnx"), OnnxSaveOptions.Inline);
        Assert.That(File.ReadAllBytes(dir.File("inline.onnx")), Is.EqualTo(File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op17"))));
        Assert.That(external.ToInlineBytes(), Is.EqualTo(File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op17"))));
    }

    [Test]
    public void ExternalModelRoundTripsThroughOurExternalWriter()
    {
        using var dir = Fixtures.NewTempDir();
        var source = OnnxModel.Load(Fixtures.Onnx(Fixtures.External));
        string path = dir.File("ext.onnx");
        source.Save(path, OnnxSaveOptions.External(thresholdBytes: 0, dataFileName: "weights.bin"));

        Assert.That(File.Exists(dir.File("weights.bin")), Is.True);
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "ext.onnx", "weights.bin" }));
        var reread = OnnxModel.Load(path);
        var reference = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        foreach (var t in reread.Graph.Initializer)
        {
            Assert.That(t.DataLocation, Is.EqualTo(TensorProto.Types.DataLocation.External), t.Name);
            Assert.That(t.ExternalData.Single(e => e.Key == "location").Value, Is.EqualTo("weights.bin"));
            long offset = long.Parse(t.ExternalData.Single(e => e.Key == "offset").Value);
            Assert.That(offset % 64, Is.Zero, $"{t.Name} starts at an aligned offset");
            using var a = reference.ReadInitializer(t.Name);
            using var b = reread.ReadInitializer(t.Name);
            Assert.That(b.Bytes.ToArray(), Is.EqualTo(a.Bytes.ToArray()), t.Name);
        }
        // Everything but where tensors live is unchanged: inlining gives the original file again.
        Assert.That(reread.ToInlineBytes(), Is.EqualTo(File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op17"))));
    }

    [Test]
    public void ThresholdMovesOnlyLargeInitializers()
    {
        using var dir = Fixtures.NewTempDir();
        var model = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        model.Save(dir.File("m.onnx"), OnnxSaveOptions.External(thresholdBytes: 4096));
        var reread = OnnxModel.Load(dir.File("m.onnx"));
        var original = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        foreach (var t in original.Graph.Initializer)
        {
            bool large = t.RawData.Length >= 4096;
            Assert.That(reread.GetInitializer(t.Name).DataLocation == TensorProto.Types.DataLocation.External, Is.EqualTo(large), t.Name);
        }
        Assert.That(File.Exists(dir.File("m.onnx.data")), Is.True);
        Assert.That(reread.ToInlineBytes(), Is.EqualTo(File.ReadAllBytes(Fixtures.Onnx("clip_tiny_op17"))));
    }

    [Test]
    public void AutoSaveKeepsAnExternalModelExternalInItsNewFolder()
    {
        using var dir = Fixtures.NewTempDir();
        var model = OnnxModel.Load(Fixtures.Onnx(Fixtures.External));
        model.Save(dir.File("moved.onnx"));
        Assert.That(File.Exists(dir.File("moved.onnx.data")), Is.True);
        Assert.That(model.BaseDirectory, Is.EqualTo(dir.Path));
        using var t = model.ReadInitializer("conv_proj.weight");   // now read from the new data file
        using var r = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17")).ReadInitializer("conv_proj.weight");
        Assert.That(t.Bytes.ToArray(), Is.EqualTo(r.Bytes.ToArray()));
    }

    [Test]
    public void SavingOverItselfReadsTheOldDataBeforeReplacingIt()
    {
        using var dir = Fixtures.NewTempDir();
        string data = Fixtures.External + ".onnx.data";
        File.Copy(Fixtures.Onnx(Fixtures.External), dir.File("m.onnx"));
        File.Copy(Path.Combine(Fixtures.Dir, data), dir.File(data));
        var model = OnnxModel.Load(dir.File("m.onnx"));
        using var ones = Tensor.Allocate("b", DType.F32, [10]);
        ones.Write<float>().Fill(1f);
        model.ReplaceInitializer("heads.head.bias", ones);
        model.Save(dir.File("m.onnx"), OnnxSaveOptions.External(0, data));   // overwrites the data it reads

        var reread = OnnxModel.Load(dir.File("m.onnx"));
        var reference = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        foreach (var info in reread.ListInitializers())
        {
            using var a = reread.ReadInitializer(info.Name);
            if (info.Name == "heads.head.bias")
            {
                Assert.That(a.Read<float>().ToArray(), Is.All.EqualTo(1f));
                continue;
            }
            using var b = reference.ReadInitializer(info.Name);
            Assert.That(a.Bytes.ToArray(), Is.EqualTo(b.Bytes.ToArray()), info.Name);
        }
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "m.onnx", data }));
    }

    [TestCase("../x.data")]
    [TestCase("sub/../../x.data")]
    [TestCase("/etc/hostname")]
    [TestCase("")]
    public void LocationOutsideTheFolderIsRejected(string location)
    {
        var e = Assert.Throws<BadInputException>(() => LoadWithEditedReference(location, null, null));
        Assert.That(e!.Message, Does.Contain("conv_proj.weight"));
    }

    [TestCase("999999999", null, "starts at byte 999999999")]
    [TestCase("0", "1000000", "past the end")]
    [TestCase("-5", null, "invalid offset")]
    [TestCase("0", "12", "needs")]
    public void RangeOutsideTheDataFileIsRejected(string offset, string? length, string expectedText)
    {
        var e = Assert.Throws<BadInputException>(() => LoadWithEditedReference(null, offset, length));
        Assert.That(e!.Message, Does.Contain(expectedText).And.Contain("conv_proj.weight"));
    }

    [Test]
    public void MissingDataFileIsRejected()
    {
        var e = Assert.Throws<BadInputException>(() => LoadWithEditedReference("absent.data", null, null));
        Assert.That(e!.Message, Does.Contain("absent.data"));
    }

    /// <summary>Copies the external fixture to a temp folder with conv_proj.weight's reference edited.</summary>
    private static void LoadWithEditedReference(string? location, string? offset, string? length)
    {
        using var dir = Fixtures.NewTempDir();
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Fixtures.Onnx(Fixtures.External)));
        var t = proto.Graph.Initializer.Single(i => i.Name == "conv_proj.weight");
        foreach (var entry in t.ExternalData)
        {
            if (entry.Key == "location" && location is not null) entry.Value = location;
            if (entry.Key == "offset" && offset is not null) entry.Value = offset;
            if (entry.Key == "length" && length is not null) entry.Value = length;
        }
        string dataName = Fixtures.External + ".onnx.data";
        File.Copy(Path.Combine(Fixtures.Dir, dataName), dir.File(dataName));
        string path = dir.File("edited.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        OnnxModel.Load(path);
    }

    [Test]
    public void TypedFieldValuesMoveToExternalDataAsTheirLittleEndianBytes()
    {
        float[] f = [1.5f, -0f, float.MaxValue, 3e-39f];
        long[] i = [long.MinValue, -1, 7];
        var ft = new TensorProto { Name = "f", DataType = (int)TensorProto.Types.DataType.Float };
        ft.Dims.Add(f.Length);
        ft.FloatData.Add(f);
        var it = new TensorProto { Name = "i", DataType = (int)TensorProto.Types.DataType.Int64 };
        it.Dims.Add(i.Length);
        it.Int64Data.Add(i);
        using var dir = Fixtures.NewTempDir();
        InitializerTests.ModelWith(ft, it).Save(dir.File("m.onnx"), OnnxSaveOptions.External(0, "d.bin"));

        var saved = ModelProto.Parser.ParseFrom(File.ReadAllBytes(dir.File("m.onnx")));
        byte[] data = File.ReadAllBytes(dir.File("d.bin"));
        var expected = new[] { System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()).ToArray(), System.Runtime.InteropServices.MemoryMarshal.AsBytes(i.AsSpan()).ToArray() };
        for (int n = 0; n < 2; n++)
        {
            var t = saved.Graph.Initializer[n];
            Assert.That(t.FloatData.Count + t.Int64Data.Count, Is.Zero, t.Name);
            var entries = t.ExternalData.ToDictionary(e => e.Key, e => e.Value);
            int offset = int.Parse(entries["offset"]), length = int.Parse(entries["length"]);
            Assert.That(data.AsSpan(offset, length).ToArray(), Is.EqualTo(expected[n]), t.Name);
        }
    }
}
