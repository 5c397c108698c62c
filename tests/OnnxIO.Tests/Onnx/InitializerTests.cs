using NUnit.Framework;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

public class InitializerTests
{
    private static IEnumerable<string> AllModels => Fixtures.Models;

    [TestCaseSource(nameof(AllModels))]
    public void InitializersEqualTheTorchParametersTheScriptSaved(string name)
    {
        using var io = SafetensorsFile.Open(Fixtures.Io(name));
        var saved = io.Names.Where(n => n.StartsWith("init.", StringComparison.Ordinal)).ToList();
        Assert.That(saved, Has.Count.GreaterThanOrEqualTo(3));
        var model = OnnxModel.Load(Fixtures.Onnx(name));
        foreach (string key in saved)
        {
            string init = key["init.".Length..];
            using var expected = io.Get(key);
            using var t = model.ReadInitializer(init);
            Assert.That(t.DType, Is.EqualTo(DType.F32), init);
            Assert.That(t.Shape.ToArray(), Is.EqualTo(expected.Shape.ToArray()), init);
            Assert.That(t.Read<float>().ToArray(), Is.EqualTo(expected.Read<float>().ToArray()), init);
        }
    }

    [Test]
    public void ListReportsNamesTypesAndShapesInFileOrder()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("roberta_tiny_op17"));
        var list = model.ListInitializers();
        Assert.That(list.Select(i => i.Name), Is.EqualTo(model.Graph.Initializer.Select(t => t.Name)));
        var emb = list.Single(i => i.Name == "word_embeddings.weight");
        Assert.That(emb.DType, Is.EqualTo(DType.F32));
        Assert.That(emb.Shape, Is.EqualTo(new long[] { 100, 32 }));   // vocab 100, hidden 32 in make_fixtures.py
        Assert.That(emb.IsExternal, Is.False);
    }

    [Test]
    public void TypedFieldsDecodeLikeRawData()
    {
        // Same values three ways: raw_data, float_data, and int32_data holding float16 bit patterns.
        float[] values = [1.5f, -2.25f, 0f, 3e-5f, float.MaxValue, -0f];
        var raw = new TensorProto { Name = "raw", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())) };
        raw.Dims.Add([2, 3]);
        var typed = new TensorProto { Name = "typed", DataType = (int)TensorProto.Types.DataType.Float };
        typed.Dims.Add([2, 3]);
        typed.FloatData.Add(values);
        Half[] halves = [(Half)1.5f, (Half)(-2.25f), Half.Zero, Half.Epsilon, Half.MaxValue, Half.NegativeZero];
        var f16 = new TensorProto { Name = "f16", DataType = (int)TensorProto.Types.DataType.Float16 };
        f16.Dims.Add(6);
        f16.Int32Data.Add(halves.Select(h => (int)BitConverter.HalfToUInt16Bits(h)));
        var i64 = new TensorProto { Name = "i64", DataType = (int)TensorProto.Types.DataType.Int64 };
        i64.Int64Data.Add(-7);   // scalar: no dims

        var model = ModelWith(raw, typed, f16, i64);
        using (var r = model.ReadInitializer("raw")) Assert.That(r.Read<float>().ToArray(), Is.EqualTo(values));
        using (var t = model.ReadInitializer("typed"))
        {
            Assert.That(t.Shape.ToArray(), Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(t.Read<float>().ToArray(), Is.EqualTo(values));
        }
        using (var h = model.ReadInitializer("f16"))
        {
            Assert.That(h.DType, Is.EqualTo(DType.F16));
            Assert.That(h.Read<Half>().ToArray(), Is.EqualTo(halves));
        }
        using (var s = model.ReadInitializer("i64"))
        {
            Assert.That(s.Rank, Is.Zero);
            Assert.That(s.Read<long>().ToArray(), Is.EqualTo(new long[] { -7 }));
        }
    }

    [Test]
    public void WrongValueCountOrUnsupportedTypeIsBadInput()
    {
        var shortRaw = new TensorProto { Name = "short", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[8]) };
        shortRaw.Dims.Add(3);
        var strings = new TensorProto { Name = "names", DataType = (int)TensorProto.Types.DataType.String };
        strings.StringData.Add(ByteString.CopyFromUtf8("a"));
        // Absurd shapes with little data must be rejected before anything is allocated.
        var hugeRaw = new TensorProto { Name = "huge_raw", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[4]) };
        hugeRaw.Dims.Add([1L << 20, 1L << 20, 1L << 10]);
        var hugeTyped = new TensorProto { Name = "huge_typed", DataType = (int)TensorProto.Types.DataType.Double };
        hugeTyped.Dims.Add(1L << 40);
        hugeTyped.DoubleData.Add(1.0);
        var overflow = new TensorProto { Name = "overflow", DataType = (int)TensorProto.Types.DataType.Float };
        overflow.Dims.Add([1L << 40, 1L << 40]);
        var negative = new TensorProto { Name = "negative", DataType = (int)TensorProto.Types.DataType.Float };
        negative.Dims.Add(-1);
        var model = ModelWith(shortRaw, strings, hugeRaw, hugeTyped, overflow, negative);
        foreach (var name in new[] { "huge_raw", "huge_typed", "overflow", "negative" })
            Assert.That(() => model.ReadInitializer(name), Throws.TypeOf<BadInputException>().With.Message.Contain($"'{name}'"));
        Assert.That(() => model.ReadInitializer("short"), Throws.TypeOf<BadInputException>().With.Message.Contain("'short'"));
        Assert.That(() => model.ReadInitializer("names"), Throws.TypeOf<BadInputException>().With.Message.Contain("STRING"));
        Assert.That(() => model.ReadInitializer("absent"), Throws.TypeOf<BadInputException>().With.Message.Contain("'absent'"));
    }

    [Test]
    public void ReplaceChangesOnlyThatTensor()
    {
        const string name = "encoder.layers.encoder_layer_0.ln_1.weight";
        using var dir = Fixtures.NewTempDir();
        var original = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op14"));
        var model = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op14"));
        float[] newValues;
        using (var old = model.ReadInitializer(name))
        {
            newValues = old.Read<float>().ToArray().Select((v, i) => v * 2 + i).ToArray();
            using var replacement = Tensor.Allocate(name, DType.F32, old.Shape);
            newValues.CopyTo(replacement.Write<float>());
            model.ReplaceInitializer(name, replacement);
        }
        model.Save(dir.File("edited.onnx"));
        var reread = OnnxModel.Load(dir.File("edited.onnx"));

        using (var changed = reread.ReadInitializer(name)) Assert.That(changed.Read<float>().ToArray(), Is.EqualTo(newValues));
        foreach (var t in original.Graph.Initializer.Where(t => t.Name != name))
            Assert.That(reread.GetInitializer(t.Name), Is.EqualTo(t), t.Name);
        Assert.That(OnnxModelComparer.Compare(original, reread), Is.Empty);
        // Everything outside that tensor's raw_data is byte-identical.
        var restored = reread.Proto.Clone();
        restored.Graph.Initializer.Single(t => t.Name == name).RawData = original.GetInitializer(name).RawData;
        Assert.That(restored.ToByteArray(), Is.EqualTo(File.ReadAllBytes(Fixtures.Onnx("vit_tiny_op14"))));
    }

    [Test]
    public void ReplaceWithAnotherDTypeOrShapeIsRejected()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        using var wrongShape = Tensor.Allocate("x", DType.F32, [16, 32]);
        using var wrongType = Tensor.Allocate("x", DType.F16, [32, 16]);
        Assert.That(() => model.ReplaceInitializer("proj", wrongShape), Throws.TypeOf<BadInputException>().With.Message.Contain("'proj'"));
        Assert.That(() => model.ReplaceInitializer("proj", wrongType), Throws.TypeOf<BadInputException>().With.Message.Contain("f16"));
    }

    [Test]
    public void ReplacingAnExternalTensorStoresItInlineUntilSavedExternal()
    {
        using var dir = Fixtures.NewTempDir();
        var model = OnnxModel.Load(Fixtures.Onnx(Fixtures.External));
        using var zeros = Tensor.Allocate("proj", DType.F32, [10]);
        model.ReplaceInitializer("heads.head.bias", zeros);
        Assert.That(model.ListInitializers().Single(i => i.Name == "heads.head.bias").IsExternal, Is.False);
        model.Save(dir.File("m.onnx"), OnnxSaveOptions.External(0));
        var reread = OnnxModel.Load(dir.File("m.onnx"));
        Assert.That(reread.ListInitializers().All(i => i.IsExternal), Is.True);
        using var bias = reread.ReadInitializer("heads.head.bias");
        Assert.That(bias.Read<float>().ToArray(), Is.All.EqualTo(0f));
        using var other = reread.ReadInitializer("heads.head.weight");
        using var reference = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17")).ReadInitializer("heads.head.weight");
        Assert.That(other.Bytes.ToArray(), Is.EqualTo(reference.Bytes.ToArray()));
    }

    /// <summary>
    /// Shared bytes (one copy held by several models, as a per-task merge writes one merged tensor into K models):
    /// each model saves the file a copying replace saves, byte for byte; the values are a copy (the source tensor
    /// may be changed and disposed), and they outlive a full garbage collection while the models hold them
    /// (external data included); a wrong dtype or shape is rejected naming the initializer.
    /// </summary>
    [Test]
    public void SharedReplacementSavesTheCopyingReplacementsBytesInEveryModel()
    {
        const string name = "encoder.layers.encoder_layer_0.self_attention.out_proj.weight";
        using var dir = Fixtures.NewTempDir();
        var copying = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op14"));
        var first = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op14"));
        var second = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op14"));
        float[] expected;
        using (var old = copying.ReadInitializer(name))
        {
            expected = old.Read<float>().ToArray().Select((v, i) => v * -3 + i * 1e-3f).ToArray();
            var replacement = Tensor.Allocate(name, DType.F32, old.Shape);
            expected.CopyTo(replacement.Write<float>());
            copying.ReplaceInitializer(name, replacement);
            var shared = SharedBytes.CopyOf(replacement);
            first.ReplaceInitializer(name, shared);
            second.ReplaceInitializer(name, shared);
            replacement.Write<float>().Fill(float.NaN);   // a copy: later writes to the source do not reach the models
            replacement.Dispose();
        }
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        copying.Save(dir.File("copying.onnx"));
        first.Save(dir.File("first.onnx"));
        second.Save(dir.File("second.onnx"), OnnxSaveOptions.External(0));
        byte[] reference = File.ReadAllBytes(dir.File("copying.onnx"));
        Assert.That(File.ReadAllBytes(dir.File("first.onnx")), Is.EqualTo(reference));
        using (var t = OnnxModel.Load(dir.File("second.onnx")).ReadInitializer(name)) Assert.That(t.Read<float>().ToArray(), Is.EqualTo(expected));
        using (var t = OnnxModel.Load(dir.File("first.onnx")).ReadInitializer(name)) Assert.That(t.Read<float>().ToArray(), Is.EqualTo(expected));

        using var wrongShape = Tensor.Allocate("x", DType.F32, [7]);
        using var wrongType = Tensor.Allocate("x", DType.F16, [32, 32]);
        Assert.That(() => first.ReplaceInitializer(name, SharedBytes.CopyOf(wrongShape)), Throws.TypeOf<BadInputException>().With.Message.Contain($"'{name}'"));
        Assert.That(() => first.ReplaceInitializer(name, SharedBytes.CopyOf(wrongType)), Throws.TypeOf<BadInputException>().With.Message.Contain("f16"));
    }

    internal static OnnxModel ModelWith(params TensorProto[] initializers)
    {
        var proto = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        proto.OpsetImport.Add(new OperatorSetIdProto { Version = 17 });
        proto.Graph.Initializer.Add(initializers);
        return new OnnxModel(proto, Path.GetTempPath(), "test model");
    }
}
