using System.Text;
using System.Text.Json;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

public class SafetensorsRoundTripTests
{
    private static readonly long[][] Shapes = [[], [0], [3, 0, 2], [5], [2, 3], [2, 1, 3, 1]];

    [Test]
    public void EveryDtypeAndShapeRoundTripsWithMetadata()
    {
        using var dir = new TempDir();
        var tensors = new List<Tensor>();
        int seed = 0;
        foreach (DType dtype in Enum.GetValues<DType>())
            foreach (long[] shape in Shapes)
                tensors.Add(Random($"{dtype}/{string.Join("x", shape)}", dtype, shape, seed++));
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\" \n newline" };
        string path = dir.File("all.safetensors");
        try
        {
            SafetensorsWriter.WriteAll(path, tensors, metadata);
            using var file = SafetensorsFile.Open(path);
            Assert.That(file.Metadata, Is.EquivalentTo(metadata));
            Assert.That(file.Names, Is.EquivalentTo(tensors.Select(t => t.Name)));
            foreach (var expected in tensors)
            {
                using var actual = file.Get(expected.Name);
                Assert.That(actual.DType, Is.EqualTo(expected.DType), expected.Name);
                Assert.That(actual.ShapeArray(), Is.EqualTo(expected.ShapeArray()), expected.Name);
                Assert.That(actual.IsReadOnly, Is.True);
                Assert.That(actual.Bytes.ToArray(), Is.EqualTo(expected.Bytes.ToArray()), expected.Name);
            }
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    [Test]
    public void TypedValuesSurviveTheTrip()
    {
        using var dir = new TempDir();
        string path = dir.File("v.safetensors");
        float[] f = [1.5f, -0f, float.NaN, float.PositiveInfinity, 3.25e-39f];
        long[] l = [long.MinValue, -1, 0, long.MaxValue];
        using (var tf = Tensor.Allocate("f", DType.F32, [5]))
        using (var tl = Tensor.Allocate("l", DType.I64, [2, 2]))
        {
            f.CopyTo(tf.Write<float>());
            l.CopyTo(tl.Write<long>());
            SafetensorsWriter.WriteAll(path, [tf, tl]);
        }
        using var file = SafetensorsFile.Open(path);
        using var rf = file.Get("f");
        using var rl = file.Get("l");
        Assert.That(rf.Read<float>().ToArray().Select(BitConverter.SingleToInt32Bits), Is.EqualTo(f.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(rl.Read<long>().ToArray(), Is.EqualTo(l));
    }

    [Test]
    public void LayoutIsTheReferenceLayout()
    {
        using var dir = new TempDir();
        string path = dir.File("layout.safetensors");
        // Mixed sizes in a bad order: the writer must reorder by element size so each tensor is aligned.
        var tensors = new[]
        {
            Random("u8", DType.U8, [3], 1), Random("f16", DType.F16, [3], 2), Random("f64", DType.F64, [2], 3),
            Random("f32", DType.F32, [3], 4), Random("i64", DType.I64, [1], 5), Random("b", DType.Bool, [1], 6),
        };
        SafetensorsWriter.WriteAll(path, tensors, new Dictionary<string, string> { ["k"] = "v" });
        foreach (var t in tensors) t.Dispose();

        byte[] bytes = File.ReadAllBytes(path);
        long n = BitConverter.ToInt64(bytes, 0);
        Assert.That((8 + n) % 8, Is.Zero, "data starts 8-aligned");
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.That(header.TrimEnd(' '), Does.EndWith("}"), "only spaces pad the JSON");
        Assert.That(n - header.TrimEnd(' ').Length, Is.LessThan(8), "at most 7 padding spaces");
        using var doc = JsonDocument.Parse(header);
        var props = doc.RootElement.EnumerateObject().ToList();
        Assert.That(props[0].Name, Is.EqualTo("__metadata__"));
        Assert.That(props.Skip(1).Select(p => p.Name), Is.EqualTo(new[] { "f64", "i64", "f32", "f16", "u8", "b" }));
        long expectedBegin = 0;
        foreach (var p in props.Skip(1))
        {
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            int size = p.Value.GetProperty("dtype").GetString() switch { "F64" or "I64" => 8, "F32" => 4, "F16" => 2, _ => 1 };
            Assert.That(offsets[0], Is.EqualTo(expectedBegin), $"{p.Name} follows the previous tensor with no hole");
            Assert.That(offsets[0] % size, Is.Zero, $"{p.Name} aligned to its element size");
            expectedBegin = offsets[1];
        }
        Assert.That(bytes.Length, Is.EqualTo(8 + n + expectedBegin), "file ends where the last tensor ends");
    }

    [Test]
    public void SingleTensorFileIsByteExact()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        using (var t = Tensor.Allocate("x", DType.F32, [2]))
        {
            t.Write<float>()[0] = 1f;
            t.Write<float>()[1] = -2f;
            SafetensorsWriter.WriteAll(path, [t]);
        }
        string json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        string padded = json.PadRight((json.Length + 7) / 8 * 8);
        byte[] data = [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(-2f)];
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(Build(padded, data)));
    }

    [Test]
    public void EmptyCheckpointRoundTrips()
    {
        using var dir = new TempDir();
        string path = dir.File("empty.safetensors");
        SafetensorsWriter.WriteAll(path, []);
        using var file = SafetensorsFile.Open(path);
        Assert.That(file.Entries, Is.Empty);
        Assert.That(file.Metadata, Is.Empty);
    }

    [Test]
    public void ViewsOutliveTheFileObject()
    {
        using var dir = new TempDir();
        string path = dir.File("v.safetensors");
        using (var t = Random("t", DType.I32, [16], 7)) SafetensorsWriter.WriteAll(path, [t]);
        byte[] expected = File.ReadAllBytes(path)[^64..];
        Tensor view;
        using (var file = SafetensorsFile.Open(path)) view = file.Get("t");
        using (view) Assert.That(view.Bytes.ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void SourceOpenPicksAFileOrAFolder()
    {
        using var dir = new TempDir();
        using (var t = Random("t", DType.U8, [4], 1)) SafetensorsWriter.WriteAll(dir.File("model.safetensors"), [t]);
        using (var byFile = SafetensorsSource.Open(dir.File("model.safetensors")))
        using (var byFolder = SafetensorsSource.Open(dir.Path))
        {
            Assert.That(byFile, Is.InstanceOf<SafetensorsFile>());
            Assert.That(byFolder, Is.InstanceOf<SafetensorsFile>());
            Assert.That(byFolder.Names, Is.EqualTo(new[] { "t" }));
            Assert.That(byFolder.Entry("t").ByteLength, Is.EqualTo(4));
        }
        using var empty = new TempDir();
        Assert.That(() => SafetensorsSource.Open(empty.Path), Throws.TypeOf<BadInputException>().With.Message.Contains("no .safetensors file"));
        Assert.That(() => SafetensorsSource.Open(empty.File("missing.safetensors")), Throws.TypeOf<BadInputException>().With.Message.Contains("missing.safetensors"));
    }
}
