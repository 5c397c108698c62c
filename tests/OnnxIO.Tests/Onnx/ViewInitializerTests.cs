using NUnit.Framework;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.TestSupport;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

/// <summary>
/// <see cref="OnnxModel.ViewInitializer"/> gives the values <see cref="OnnxModel.ReadInitializer"/> decodes, as a
/// read-only view of the mapped file where raw_data or external data lie in it and as a copy everywhere else (a
/// model parsed from a stream, a typed field, a replaced initializer, merged bytes shared between outputs).
/// The reference is the protobuf parser's raw_data of the same file.
/// </summary>
public sealed class ViewInitializerTests
{
    [TestCaseSource(typeof(Fixtures), nameof(Fixtures.ModelsAndExternal))]
    public void EveryInitializerViewsOrCopiesTheParsersValues(string name)
    {
        string path = Fixtures.Onnx(name);
        var parsed = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var model = OnnxModel.Load(path);
        int views = 0;
        foreach (var proto in parsed.Graph.Initializer)
        {
            using var view = model.ViewInitializer(proto.Name);
            using var copy = model.ReadInitializer(proto.Name);
            Assert.That(view.DType, Is.EqualTo(copy.DType), proto.Name);
            Assert.That(view.ShapeArray(), Is.EqualTo(proto.Dims.ToArray()), proto.Name);
            Assert.That(view.Bytes.ToArray(), Is.EqualTo(copy.Bytes.ToArray()), proto.Name);
            if (proto.HasRawData) Assert.That(view.Bytes.ToArray(), Is.EqualTo(proto.RawData.ToByteArray()), proto.Name);
            bool external = proto.DataLocation == TensorProto.Types.DataLocation.External;
            Assert.That(view.IsReadOnly, Is.EqualTo(proto.HasRawData || external), $"{proto.Name}: a view exactly where the values lie in a file");
            Assert.That(copy.IsReadOnly, Is.False);
            if (view.IsReadOnly) views++;
        }
        Assert.That(views, Is.GreaterThan(0));
    }

    [Test]
    public void ExternalTensorsAreViewsOfTheBytesAtTheirOffsetInTheDataFile()
    {
        string path = Fixtures.Onnx(Fixtures.External);
        var parsed = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var model = OnnxModel.Load(path);
        int external = 0;
        foreach (var proto in parsed.Graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External))
        {
            var entries = proto.ExternalData.ToDictionary(e => e.Key, e => e.Value);
            byte[] data = File.ReadAllBytes(Path.Combine(Fixtures.Dir, entries["location"]));
            long offset = entries.TryGetValue("offset", out var o) ? long.Parse(o) : 0;
            long length = entries.TryGetValue("length", out var l) ? long.Parse(l) : data.Length - offset;
            using var view = model.ViewInitializer(proto.Name);
            Assert.That(view.IsReadOnly, Is.True, proto.Name);
            Assert.That(view.Bytes.ToArray(), Is.EqualTo(data.AsSpan((int)offset, (int)length).ToArray()), proto.Name);
            Assert.Throws<InvalidOperationException>(() => view.Write<byte>());
            external++;
        }
        Assert.That(external, Is.GreaterThan(1), "the fixture keeps several tensors in one data file");
    }

    [Test]
    public void AfterASaveOverTheSameFilesNewViewsReadTheNewValuesAndOldViewsTheOld()
    {
        using var dir = Fixtures.NewTempDir();
        string path = CopyExternalFixture(dir);
        var model = OnnxModel.Load(path);
        var info = model.ListInitializers().Where(i => i.IsExternal && i.DType == DType.F32).MaxBy(i => Shapes.ElementCount(i.Shape))!;
        using var before = model.ViewInitializer(info.Name);
        byte[] original = before.Bytes.ToArray();
        using var replacement = Filled(info, 0.25f);
        model.ReplaceInitializer(info.Name, replacement);
        model.Save(path, OnnxSaveOptions.External(thresholdBytes: 0, dataFileName: Fixtures.External + ".onnx.data"));
        Assert.That(model.ListInitializers().Single(i => i.Name == info.Name).IsExternal, Is.True);

        using var after = model.ViewInitializer(info.Name);
        Assert.That(after.IsReadOnly, Is.True);
        Assert.That(after.Bytes.ToArray(), Is.EqualTo(replacement.Bytes.ToArray()), "the saved data file's values");
        Assert.That(before.Bytes.ToArray(), Is.EqualTo(original), "an earlier view keeps the file it mapped");
        using var reloaded = OnnxModel.Load(path).ReadInitializer(info.Name);
        Assert.That(reloaded.Bytes.ToArray(), Is.EqualTo(replacement.Bytes.ToArray()));
    }

    [Test]
    public void ADataFileRenamedOverTheOldOneIsMappedAgain()
    {
        using var dir = Fixtures.NewTempDir();
        string path = CopyExternalFixture(dir);
        string data = dir.File(Fixtures.External + ".onnx.data");
        var model = OnnxModel.Load(path);
        var info = model.ListInitializers().First(i => i.IsExternal && i.DType == DType.F32);
        using var first = model.ViewInitializer(info.Name);
        byte[] bytes = File.ReadAllBytes(data);
        for (int i = 0; i < bytes.Length; i++) bytes[i] ^= 0x5A;
        string temp = dir.File("new.data");
        File.WriteAllBytes(temp, bytes);
        File.SetLastWriteTimeUtc(temp, File.GetLastWriteTimeUtc(data).AddSeconds(5));
        File.Move(temp, data, overwrite: true);

        using var second = model.ViewInitializer(info.Name);
        using var copy = model.ReadInitializer(info.Name);
        Assert.That(second.Bytes.ToArray(), Is.EqualTo(copy.Bytes.ToArray()), "the view reads the file now there, as a copy does");
        Assert.That(second.Bytes.ToArray(), Is.Not.EqualTo(first.Bytes.ToArray()));
    }

    [Test]
    public void AMissingDataFileIsReportedNamingTheModelAndTensor()
    {
        using var dir = Fixtures.NewTempDir();
        string path = CopyExternalFixture(dir);
        var model = OnnxModel.Load(path);
        var info = model.ListInitializers().First(i => i.IsExternal);
        File.Delete(dir.File(Fixtures.External + ".onnx.data"));
        var e = Assert.Throws<BadInputException>(() => model.ViewInitializer(info.Name).Dispose())!;
        Assert.That(e.Message, Does.StartWith($"{path}: external data '{Fixtures.External}.onnx.data' of tensor '{info.Name}' cannot be read"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void TensorsInFilesOfTheirOwnAreViewsOfEachFileAtItsOffset()
    {
        // torch's legacy exporter and onnx's all_tensors_to_one_file=False: one file per tensor, here with an offset too.
        using var dir = Fixtures.NewTempDir();
        float[] a = [1f, -2.5f, 3.25f], b = [0.5f, float.NegativeInfinity];
        File.WriteAllBytes(dir.File("a.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).ToArray());
        File.WriteAllBytes(dir.File("b.bin"), new byte[12].Concat(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()).ToArray()).ToArray());
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        model.Graph.Initializer.Add(External("a", 3, "a.bin", offset: null));
        model.Graph.Initializer.Add(External("b", 2, "b.bin", offset: 12));
        File.WriteAllBytes(dir.File("m.onnx"), model.ToByteArray());
        var loaded = OnnxModel.Load(dir.File("m.onnx"));
        using var va = loaded.ViewInitializer("a");
        using var vb = loaded.ViewInitializer("b");
        Assert.That(va.IsReadOnly && vb.IsReadOnly, Is.True);
        Assert.That(va.Read<float>().ToArray(), Is.EqualTo(a));
        Assert.That(vb.Read<float>().ToArray(), Is.EqualTo(b));
    }

    private static TensorProto External(string name, long n, string location, long? offset)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        t.Dims.Add(n);
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is { } o) t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = o.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        return t;
    }

    private static string CopyExternalFixture(Fixtures.TempDir dir)
    {
        string name = Fixtures.External + ".onnx";
        File.Copy(Fixtures.File(name), dir.File(name));
        File.Copy(Fixtures.File(name + ".data"), dir.File(name + ".data"));
        return dir.File(name);
    }

    [Test]
    public void AViewKeepsTheMappingAfterTheModelIsGone()
    {
        string path = Fixtures.Onnx("vit_tiny_op14");
        var parsed = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var largest = parsed.Graph.Initializer.Where(t => t.HasRawData).MaxBy(t => t.RawData.Length)!;
        var view = ViewOfAModelNobodyHolds(path, largest.Name);
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.That(view.IsReadOnly, Is.True);
        Assert.That(view.Bytes.ToArray(), Is.EqualTo(largest.RawData.ToByteArray()));
        Assert.Throws<InvalidOperationException>(() => view.Write<byte>());
        view.Dispose();
    }

    private static Tensor ViewOfAModelNobodyHolds(string path, string name) => OnnxModel.Load(path).ViewInitializer(name);

    [Test]
    public void AModelParsedFromAStreamGivesCopies()
    {
        string path = Fixtures.Onnx("clip_tiny_op17");
        using var stream = new MemoryStream(File.ReadAllBytes(path));
        var model = OnnxModel.Load(stream, Fixtures.Dir, "clip_tiny_op17 (stream)");
        var mapped = OnnxModel.Load(path);
        foreach (var info in model.ListInitializers())
        {
            using var t = model.ViewInitializer(info.Name);
            using var reference = mapped.ViewInitializer(info.Name);
            Assert.That(t.IsReadOnly, Is.False, info.Name);
            Assert.That(t.Bytes.ToArray(), Is.EqualTo(reference.Bytes.ToArray()), info.Name);
        }
    }

    [Test]
    public void ReplacedInitializersAreCopiesOfTheNewValues()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("roberta_tiny_op14"));
        var floats = model.ListInitializers().Where(i => i.DType == DType.F32 && !i.IsExternal).Take(2).ToArray();
        Assert.That(floats, Has.Length.EqualTo(2));
        using var a = Filled(floats[0], 1.5f);
        using var b = Filled(floats[1], -2f);
        model.ReplaceInitializer(floats[0].Name, a);
        model.ReplaceInitializer(floats[1].Name, SharedBytes.CopyOf(b));
        foreach (var (info, expected) in new[] { (floats[0], a), (floats[1], b) })
        {
            using var t = model.ViewInitializer(info.Name);
            Assert.That(t.IsReadOnly, Is.False, $"{info.Name}: not the shared merged bytes themselves");
            Assert.That(t.Bytes.ToArray(), Is.EqualTo(expected.Bytes.ToArray()), info.Name);
            t.Write<float>()[0] = 99f;
            using var again = model.ReadInitializer(info.Name);
            Assert.That(again.Read<float>()[0], Is.EqualTo(expected.Read<float>()[0]), $"{info.Name}: writing the copy leaves the model alone");
        }
    }

    [Test]
    public void RawDataOfTheWrongSizeIsRefusedNamingTheTensor()
    {
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[8]) };
        w.Dims.Add(3);
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.Graph.Initializer.Add(w);
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("short.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var loaded = OnnxModel.Load(path);
        var e = Assert.Throws<BadInputException>(() => loaded.ViewInitializer("w").Dispose())!;
        Assert.That(e.Message, Is.EqualTo($"{loaded.DisplayName}: tensor 'w' has 8 bytes of raw_data, its shape [3] needs 12"));
        Assert.That(Assert.Throws<BadInputException>(() => loaded.ReadInitializer("w").Dispose())!.Message, Is.EqualTo(e.Message));
    }

    private static Tensor Filled(InitializerInfo info, float value)
    {
        var t = Tensor.Allocate(info.Name, DType.F32, info.Shape);
        t.Write<float>().Fill(value);
        return t;
    }
}
