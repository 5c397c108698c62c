using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Tensors;

public unsafe class TensorTests
{
    [Test]
    public void AllocateIs64ByteAlignedAndZeroed()
    {
        foreach (DType dtype in Enum.GetValues<DType>())
            foreach (long[] shape in new[] { new long[] { 1 }, [3], [7, 5], [1000] })
            {
                using var t = Tensor.Allocate("t", dtype, shape);
                Assert.That((long)((nuint)t.Pointer % 64), Is.Zero, $"{dtype} {Shapes.Format(shape)}");
                Assert.That(t.ByteLength, Is.EqualTo(shape.Aggregate(1L, (a, b) => a * b) * dtype.Size()));
                Assert.That(t.Bytes.ToArray(), Is.All.EqualTo((byte)0));
            }
    }

    [Test]
    public void ZeroDimTensorHasOneElement()
    {
        using var t = Tensor.Allocate("scalar", DType.F64, ReadOnlySpan<long>.Empty);
        Assert.That(t.Rank, Is.Zero);
        Assert.That(t.ElementCount, Is.EqualTo(1));
        Assert.That(t.ByteLength, Is.EqualTo(8));
        t.Write<double>()[0] = 2.5;
        Assert.That(t.Read<double>()[0], Is.EqualTo(2.5));
    }

    [Test]
    public void EmptyTensorHasZeroBytes()
    {
        foreach (long[] shape in new[] { new long[] { 0 }, [3, 0], [0, 5, 2] })
        {
            using var t = Tensor.Allocate("empty", DType.F32, shape);
            Assert.That(t.ElementCount, Is.Zero);
            Assert.That(t.ByteLength, Is.Zero);
            Assert.That(t.Read<float>().Length, Is.Zero);
        }
    }

    [Test]
    public void ViewKeepsMappedStorageAliveAfterOwnerDispose()
    {
        string path = Path.Combine(Path.GetTempPath(), $"amalgam-tensor-{Guid.NewGuid():N}.bin");
        float[] values = [1.5f, -2f, 3.25f, 4f, 5f, 6f];
        File.WriteAllBytes(path, values.SelectMany(BitConverter.GetBytes).ToArray());
        try
        {
            var storage = new MappedFileStorage(path);
            using var view = Tensor.View("w", DType.F32, [2, 2], storage, byteOffset: 8);
            storage.Dispose();                      // the owner lets go; the view still holds a reference
            Assert.That(storage.IsClosed, Is.False);
            Assert.That(view.Read<float>().ToArray(), Is.EqualTo(values[2..6]));
            view.Dispose();
            Assert.That(storage.IsClosed, Is.True);  // last reference gone: unmapped
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ViewKeepsNativeStorageAliveAfterOwnerDispose()
    {
        var storage = new NativeStorage(64);
        new Span<int>(storage.Pointer, 16).Fill(42);
        using var view = Tensor.View("v", DType.I32, [4], storage, byteOffset: 16);
        storage.Dispose();
        Assert.That(view.Read<int>().ToArray(), Is.All.EqualTo(42));
    }

    [Test]
    public void ViewOutsideStorageThrows()
    {
        using var storage = new NativeStorage(64);
        Assert.That(() => Tensor.View("v", DType.F32, [10], storage, byteOffset: 40), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("'v'"));
    }

    [Test]
    public void WriteOnReadOnlyTensorThrows()
    {
        string path = Path.Combine(Path.GetTempPath(), $"amalgam-tensor-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(path, new byte[16]);
        try
        {
            using var storage = new MappedFileStorage(path);
            using var view = Tensor.View("ro", DType.F32, [4], storage, 0);
            Assert.That(view.IsReadOnly, Is.True);
            Assert.That(() => view.Write<float>(), Throws.InvalidOperationException.With.Message.Contains("'ro'"));
            Assert.That(view.Read<float>().ToArray(), Is.All.EqualTo(0f));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void ReadWithMismatchedElementTypeThrows()
    {
        using var t = Tensor.Allocate("w", DType.F32, [4]);
        Assert.That(() => t.Read<double>(), Throws.InvalidOperationException.With.Message.Contains("'w'"));
        Assert.That(() => t.Read<ushort>(), Throws.InvalidOperationException);
        Assert.That(t.Read<byte>().Length, Is.EqualTo(16)); // raw bytes are always allowed
        Assert.That(() => t.Read<float>(2, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
