using System.Buffers.Binary;
using System.IO.Compression;
using Amalgam.Engine.Data;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data;

public class IdxFileTests
{
    /// <summary>An IDX file: 00 00 type rank, big-endian dims, then the given payload.</summary>
    private static byte[] Idx(byte type, uint[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    private static string Write(Fixtures.TempDir dir, string name, byte[] content, bool gzip)
    {
        string path = dir.File(name);
        if (!gzip) File.WriteAllBytes(path, content);
        else
        {
            using var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest);
            gz.Write(content);
        }
        return path;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ReadsDimsAndBytes(bool gzip)
    {
        using var dir = Fixtures.NewTempDir();
        byte[] payload = Enumerable.Range(0, 18).Select(i => (byte)(i * 13)).ToArray();
        var contents = IdxFile.Read(Write(dir, "a.idx", Idx(8, [2, 3, 3], payload), gzip));
        Assert.That(contents.Dims, Is.EqualTo(new[] { 2, 3, 3 }));
        Assert.That(contents.Data, Is.EqualTo(payload));
    }

    [Test]
    public void ImagesAndLabelsBecomeADataset()
    {
        var images = new IdxFile.Contents([2, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4]);
        var labels = new IdxFile.Contents([2], [7, 0]);
        using var ds = FashionMnist.FromIdx(images, "i", labels, "l", 10, "tiny");
        Assert.That(ds.Images.Read<float>().ToArray(), Is.EqualTo(new[] { 0f, 1f, 0.2f, 0.4f, 1 / 255f, 2 / 255f, 3 / 255f, 4 / 255f }));
        Assert.That(ds.Labels.Read<long>().ToArray(), Is.EqualTo(new long[] { 7, 0 }));

        Assert.That(Assert.Throws<BadInputException>(() => FashionMnist.FromIdx(images, "i", new IdxFile.Contents([2], [7, 10]), "l.gz", 10, "x"))!.Message,
            Does.StartWith("l.gz:").And.Contain("label 10"));
        Assert.That(Assert.Throws<BadInputException>(() => FashionMnist.FromIdx(images, "i", new IdxFile.Contents([3], [1, 2, 3]), "l.gz", 10, "x"))!.Message,
            Does.StartWith("l.gz:"));
        Assert.That(Assert.Throws<BadInputException>(() => FashionMnist.FromIdx(labels, "i.gz", labels, "l", 10, "x"))!.Message,
            Does.StartWith("i.gz:"));
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        byte[] six = new byte[6];
        yield return new TestCaseData(Idx(8, [2, 3], six)[..3]).SetName("TruncatedMagic");
        var badMagic = Idx(8, [6], six); badMagic[0] = 1;
        yield return new TestCaseData(badMagic).SetName("MagicNotStartingWithZeros");
        yield return new TestCaseData(Idx(0x0D, [6], new byte[24])).SetName("FloatElementsUnsupported");
        yield return new TestCaseData(Idx(8, [], six)).SetName("RankZero");
        yield return new TestCaseData(Idx(8, [1, 1, 1, 1, 6], six)).SetName("RankFive");
        yield return new TestCaseData(Idx(8, [2, 3], six)[..8]).SetName("TruncatedDims");
        yield return new TestCaseData(Idx(8, [2, 0], six)).SetName("ZeroDimension");
        yield return new TestCaseData(Idx(8, [2, 4], six)).SetName("TruncatedData");
        yield return new TestCaseData(Idx(8, [2, 2], six)).SetName("TrailingBytes");
        yield return new TestCaseData(Idx(8, [65536, 65536, 65536], six)).SetName("TooManyElementsBeforeAllocating");
        yield return new TestCaseData(Array.Empty<byte>()).SetName("Empty");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedFileIsBadInputNamingIt(byte[] content)
    {
        using var dir = Fixtures.NewTempDir();
        foreach (bool gzip in new[] { false, true })
        {
            string path = Write(dir, gzip ? "bad.idx.gz" : "bad.idx", content, gzip);
            var e = Assert.Throws<BadInputException>(() => IdxFile.Read(path))!;
            TestContext.Out.WriteLine(e.Message);
            Assert.That(e.Message, Does.StartWith(path + ":"));
            Assert.That(e.Message, Does.Not.Contain("\n"));
        }
    }

    [Test]
    public void CorruptGzipOrMissingFileIsBadInput()
    {
        using var dir = Fixtures.NewTempDir();
        byte[] gz;
        using (var ms = new MemoryStream())
        {
            using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(Idx(8, [100], new byte[100]));
            gz = ms.ToArray();
        }
        string truncated = Write(dir, "cut.gz", gz[..(gz.Length / 2)], gzip: false);
        Assert.That(Assert.Throws<BadInputException>(() => IdxFile.Read(truncated))!.Message, Does.StartWith(truncated));
        byte[] corrupt = (byte[])gz.Clone();
        for (int i = 10; i < corrupt.Length - 8; i++) corrupt[i] ^= 0x5a;
        string garbled = Write(dir, "garbled.gz", corrupt, gzip: false);
        Assert.That(Assert.Throws<BadInputException>(() => IdxFile.Read(garbled))!.Message, Does.StartWith(garbled));
        Assert.That(Assert.Throws<BadInputException>(() => IdxFile.Read(dir.File("missing.gz")))!.Message, Does.Contain("missing.gz"));
    }
}
