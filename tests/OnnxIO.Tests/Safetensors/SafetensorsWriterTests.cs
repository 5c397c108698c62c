using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;
using NUnit.Framework;
using static Amalgam.OnnxIO.Tests.Safetensors.SafetensorsTestFiles;

namespace Amalgam.OnnxIO.Tests.Safetensors;

public class SafetensorsWriterTests
{
    [Test]
    public void ChunksStreamIntoPlaceInAnyOrder()
    {
        using var dir = new TempDir();
        string path = dir.File("s.safetensors");
        using var a = Random("a", DType.F32, [1000], 1);
        using var b = Random("b", DType.BF16, [7, 3], 2);
        using (var w = new SafetensorsWriter(path, [SafetensorsDeclaration.Of(a), SafetensorsDeclaration.Of(b)]))
        {
            w.Write(b);
            var bytes = a.Bytes;
            foreach (var (start, len) in new[] { (0, 1), (1, 2047), (2048, 1952) })
            {
                Assert.That(w.IsComplete, Is.False);
                w.WriteChunk("a", bytes.Slice(start, len));
            }
            Assert.That(w.IsComplete, Is.True);
            w.Commit();
        }
        using var file = SafetensorsFile.Open(path);
        using var ra = file.Get("a");
        using var rb = file.Get("b");
        Assert.That(ra.Bytes.ToArray(), Is.EqualTo(a.Bytes.ToArray()));
        Assert.That(rb.Bytes.ToArray(), Is.EqualTo(b.Bytes.ToArray()));
    }

    [Test]
    public void IncompleteWriteLeavesNothingBehindAndKeepsTheOldFile()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        File.WriteAllText(path, "old");
        using (var w = new SafetensorsWriter(path, [new SafetensorsDeclaration("a", DType.F32, 4)]))
        {
            w.WriteChunk("a", new byte[15]);
            Assert.That(() => w.Commit(), Throws.InvalidOperationException.With.Message.Contains("15 of its 16 bytes"));
        }
        Assert.That(File.ReadAllText(path), Is.EqualTo("old"));
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void DisposeAfterTheLastByteCommits()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        using (var w = new SafetensorsWriter(path, [new SafetensorsDeclaration("a", DType.U8, 2)]))
            w.WriteChunk("a", [7, 9]);
        using var file = SafetensorsFile.Open(path);
        using var a = file.Get("a");
        Assert.That(a.Bytes.ToArray(), Is.EqualTo(new byte[] { 7, 9 }));
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1));
    }

    [Test]
    public void TooManyBytesWrongShapeAndUnknownNamesAreRejected()
    {
        using var dir = new TempDir();
        using var w = new SafetensorsWriter(dir.File("x.safetensors"), [new SafetensorsDeclaration("a", DType.F32, 2)]);
        Assert.That(() => w.WriteChunk("a", new byte[9]), Throws.InvalidOperationException.With.Message.Contains("exceeds its 8 bytes"));
        w.WriteChunk("a", new byte[8]);
        Assert.That(() => w.WriteChunk("a", new byte[1]), Throws.InvalidOperationException);
        Assert.That(() => w.WriteChunk("b", new byte[1]), Throws.ArgumentException.With.Message.Contains("'b' was not declared"));
        using var wrong = Tensor.Allocate("a", DType.F32, [1, 2]);
        Assert.That(() => w.Write(wrong), Throws.ArgumentException.With.Message.Contains("declared f32 [2]"));
    }

    [Test]
    public void DuplicateOrReservedDeclarationsAreRejectedWithoutATempFile()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        Assert.That(() => new SafetensorsWriter(path, [new("a", DType.U8, 1), new SafetensorsDeclaration("a", DType.U8, 1)]),
            Throws.ArgumentException.With.Message.Contains("declared twice"));
        Assert.That(() => new SafetensorsWriter(path, [new SafetensorsDeclaration("__metadata__", DType.U8, 1)]),
            Throws.ArgumentException.With.Message.Contains("reserved"));
        Assert.That(Directory.GetFiles(dir.Path), Is.Empty);
    }
}
