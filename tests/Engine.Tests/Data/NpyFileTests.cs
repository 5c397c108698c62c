using System.Text;
using Amalgam.Engine.Data.Npy;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data;

/// <summary>.npy files; the fixtures in tests/fixtures/npy were written by numpy (make_npy.py there).</summary>
public class NpyFileTests
{
    private static string Npy(string name) => Fixtures.File(Path.Combine("npy", name));

    private static (long[] Shape, T[] Values, DType DType) ReadAll<T>(string name) where T : unmanaged
    {
        using var t = NpyFile.Read(Npy(name));
        return (t.ShapeArray(), t.Read<T>().ToArray(), t.DType);
    }

    [Test]
    public void ReadsFilesWrittenByNumpy()
    {
        var f32 = ReadAll<float>("f32_2x3.npy");
        Assert.That(f32.DType, Is.EqualTo(DType.F32));
        Assert.That(f32.Shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(f32.Values, Is.EqualTo(new[] { 0.5f, -1.25f, 3.0f, 1e-3f, 0f, -7.5f }));

        var f64 = ReadAll<double>("f64_4.npy");
        Assert.That(f64.DType, Is.EqualTo(DType.F64));
        Assert.That(f64.Values, Is.EqualTo(new[] { 1.0 / 3.0, -2.5, 1e300, -0.0 }));
        Assert.That(double.IsNegative(f64.Values[3]), Is.True);

        var i64 = ReadAll<long>("i64_3.npy");
        Assert.That((i64.DType, i64.Shape), Is.EqualTo((DType.I64, new long[] { 3 })));
        Assert.That(i64.Values, Is.EqualTo(new[] { 0L, -1L, 9007199254740993L }));

        var i32 = ReadAll<int>("i32_2x2.npy");
        Assert.That(i32.DType, Is.EqualTo(DType.I32));
        Assert.That(i32.Values, Is.EqualTo(new[] { 1, -2, int.MaxValue, int.MinValue }));

        var u8 = ReadAll<byte>("u8_2x2x2.npy");
        Assert.That((u8.DType, u8.Shape), Is.EqualTo((DType.U8, new long[] { 2, 2, 2 })));
        Assert.That(u8.Values, Is.EqualTo(Enumerable.Range(0, 8).Select(i => (byte)(31 * i))));

        var scalar = ReadAll<float>("f32_scalar.npy");
        Assert.That((scalar.Shape, scalar.Values), Is.EqualTo((Array.Empty<long>(), new[] { 2.5f })));

        var empty = ReadAll<float>("f32_0x3.npy");
        Assert.That((empty.Shape, empty.Values.Length), Is.EqualTo((new long[] { 0, 3 }, 0)));

        var v2 = ReadAll<float>("f32_3_v2.npy");
        Assert.That(File.ReadAllBytes(Npy("f32_3_v2.npy"))[6], Is.EqualTo(2), "fixture is format 2.0");
        Assert.That(v2.Values, Is.EqualTo(new[] { 1.5f, 2.5f, -3.5f }));
    }

    [TestCase("f32_2x3.npy")]
    [TestCase("f64_4.npy")]
    [TestCase("i64_3.npy")]
    [TestCase("i32_2x2.npy")]
    [TestCase("u8_2x2x2.npy")]
    [TestCase("f32_scalar.npy")]
    [TestCase("f32_0x3.npy")]
    public void WritesTheSameBytesAsNumpySave(string name)
    {
        using var dir = Fixtures.NewTempDir();
        using (var t = NpyFile.Read(Npy(name))) NpyFile.Write(dir.File(name), t);
        Assert.That(File.ReadAllBytes(dir.File(name)), Is.EqualTo(File.ReadAllBytes(Npy(name))));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1), "no temp file left behind");
    }

    [Test]
    public void RoundTripsEveryDTypeAndSeveralShapes()
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new System.Random(3);
        long[][] shapes = [[], [0], [1], [5], [3, 7], [2, 3, 4], [1, 1, 1, 1, 17], [70000]];
        foreach (var dtype in new[] { DType.F32, DType.F64, DType.I64, DType.I32, DType.U8 })
            foreach (var shape in shapes)
            {
                using var t = Tensor.Allocate("t", dtype, shape);
                var bytes = t.Write<byte>();
                rng.NextBytes(bytes);
                string path = dir.File($"{dtype}_{shape.Length}.npy");
                NpyFile.Write(path, t);
                using var back = NpyFile.Read(path);
                Assert.That((back.DType, back.ShapeArray()), Is.EqualTo((dtype, shape)));
                Assert.That(back.Bytes.SequenceEqual(t.Bytes), Is.True, $"{dtype} {Shapes.Format(shape)}");
                Assert.That(File.ReadAllBytes(path).Length % 64 == (int)(t.ByteLength % 64), Is.True, "data starts on a 64-byte boundary");
            }
    }

    [Test]
    public void WritingAnUnsupportedDTypeThrowsBeforeCreatingAFile()
    {
        using var dir = Fixtures.NewTempDir();
        using var t = Tensor.Allocate("h", DType.F16, [2]);
        Assert.Throws<ArgumentException>(() => NpyFile.Write(dir.File("h.npy"), t));
        Assert.That(Directory.GetFiles(dir.Path), Is.Empty);
    }

    [TestCase("f4_big_endian.npy", "'>f4'")]
    [TestCase("f32_fortran_2x3.npy", "Fortran")]
    public void RejectsNumpyFilesWeDoNotSupport(string name, string mention)
    {
        var e = Assert.Throws<BadInputException>(() => NpyFile.Read(Npy(name)))!;
        Assert.That(e.Message, Does.StartWith(Npy(name) + ":").And.Contain(mention));
    }

    private static byte[] WithHeader(string dict, int major = 1, int dataBytes = 8)
    {
        var text = Encoding.Latin1.GetBytes(dict);
        var ms = new MemoryStream();
        ms.Write(NpyHeader.Magic);
        ms.WriteByte((byte)major);
        ms.WriteByte(0);
        if (major == 1) ms.Write(BitConverter.GetBytes((ushort)text.Length));
        else ms.Write(BitConverter.GetBytes((uint)text.Length));
        ms.Write(text);
        ms.Write(new byte[dataBytes]);
        return ms.ToArray();
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        const string ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
        yield return new TestCaseData(WithHeader(ok)[..5]).SetName("TruncatedMagic");
        var magic = WithHeader(ok); magic[1] = (byte)'X';
        yield return new TestCaseData(magic).SetName("WrongMagic");
        yield return new TestCaseData(WithHeader(ok, major: 4)).SetName("UnknownVersion");
        yield return new TestCaseData(WithHeader(ok)[..20]).SetName("TruncatedHeader");
        yield return new TestCaseData(WithHeader(ok, dataBytes: 7)).SetName("DataTooShort");
        yield return new TestCaseData(WithHeader(ok, dataBytes: 9)).SetName("DataTooLong");
        yield return new TestCaseData(WithHeader(ok.Replace("<f4", "<c8"))).SetName("ComplexDType");
        yield return new TestCaseData(WithHeader(ok.Replace("<f4", "<f2"))).SetName("HalfDType");
        yield return new TestCaseData(WithHeader("{'descr': '<f4', 'shape': (2,), }")).SetName("NoFortranOrder");
        yield return new TestCaseData(WithHeader("{'descr': '<f4', 'fortran_order': False}")).SetName("NoShape");
        yield return new TestCaseData(WithHeader(ok.Replace("(2,)", "(-2,)"))).SetName("NegativeDim");
        yield return new TestCaseData(WithHeader(ok.Replace("(2,)", "(2"))).SetName("UnclosedTuple");
        yield return new TestCaseData(WithHeader(ok.Replace("(2,)", "(99999999999, 99999999999, 99999999999)"))).SetName("ShapeOverflows");
        yield return new TestCaseData(WithHeader(ok.Replace("(2,)", "(4000000000,)"))).SetName("ShapeLargerThanFile");
        yield return new TestCaseData(WithHeader(ok.Replace("False", "Maybe"))).SetName("BadBool");
        yield return new TestCaseData(WithHeader(ok.Replace("'descr'", "'descr"))).SetName("UnterminatedString");
        yield return new TestCaseData(WithHeader(ok + "x")).SetName("TextAfterDict");
        yield return new TestCaseData(WithHeader(ok.Replace("}", "'descr': '<f4', }"))).SetName("DuplicateKey");
        yield return new TestCaseData(WithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (" + string.Join(",", Enumerable.Repeat("1", 40)) + ",), }")).SetName("RankAboveBound");
        yield return new TestCaseData(WithHeader(new string(' ', 70000), major: 2)).SetName("HeaderLongerThanBound");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedFileIsBadInputNamingIt(byte[] content)
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("bad.npy");
        File.WriteAllBytes(path, content);
        var e = Assert.Throws<BadInputException>(() => NpyFile.Read(path))!;
        TestContext.Out.WriteLine(e.Message);
        Assert.That(e.Message, Does.StartWith(path + ":"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void MissingFileIsBadInput()
    {
        using var dir = Fixtures.NewTempDir();
        Assert.That(Assert.Throws<BadInputException>(() => NpyFile.Read(dir.File("none.npy")))!.Message, Does.Contain("none.npy"));
    }
}
