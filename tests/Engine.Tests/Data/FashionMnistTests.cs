using System.Security.Cryptography;
using Amalgam.Engine.Data;

namespace Amalgam.Engine.Tests.Data;

/// <summary>
/// Fashion-MNIST as installed by the bootstrap (Debian package dataset-fashion-mnist), found via
/// DataPaths. The expected facts were computed independently at dev time with Python's gzip module:
///   im = gzip.open('.../train-images-idx3-ubyte.gz').read(); first = im[16:16+784]
///   hashlib.sha256(first).hexdigest(); sum(first); lb = gzip.open(labels).read(); lb[8:18]
/// </summary>
public class FashionMnistTests
{
    private Dataset _train = null!;
    private Dataset _test = null!;

    [OneTimeSetUp]
    public void LoadBothSplits()
    {
        _train = FashionMnist.Load(Split.Train);
        _test = FashionMnist.Load(Split.Test);
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        _train?.Dispose();
        _test?.Dispose();
    }

    private static byte[] Bytes(ReadOnlySpan<float> image)
    {
        var bytes = new byte[image.Length];
        for (int i = 0; i < image.Length; i++) bytes[i] = checked((byte)Math.Round(image[i] * 255.0));
        return bytes;
    }

    [Test]
    public void SplitsHaveTheirSizesAndShape()
    {
        Assert.That(_train.Count, Is.EqualTo(60_000));
        Assert.That(_test.Count, Is.EqualTo(10_000));
        Assert.That(_train.Images.ShapeArray(), Is.EqualTo(new long[] { 60_000, 28, 28 }));
        Assert.That(_test.Labels.ShapeArray(), Is.EqualTo(new long[] { 10_000 }));
        Assert.That(_train.ClassCount, Is.EqualTo(10));
    }

    [Test]
    public void EveryClassHas6000TrainingAnd1000TestImages()
    {
        Assert.That(_train.ClassHistogram(), Is.EqualTo(Enumerable.Repeat(6000, 10)));
        Assert.That(_test.ClassHistogram(), Is.EqualTo(Enumerable.Repeat(1000, 10)));
    }

    [Test]
    public void FirstImagesMatchChecksumsComputedWithPython()
    {
        byte[] train0 = Bytes(_train.Image(0)), test0 = Bytes(_test.Image(0));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(train0)), Is.EqualTo("5bd44e331a6d6998daf675700cd0c13dcd7af8ab954b7585124124da61459e7b"));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(test0)), Is.EqualTo("ffc7351ed0f8bae542820866086177fa4e0b366b97bf9d998dffdb8dbe138787"));
        Assert.That(train0.Sum(b => (int)b), Is.EqualTo(76247));
        Assert.That(test0.Sum(b => (int)b), Is.EqualTo(33456));
        Assert.That(Bytes(_train.Image(59_999)).Sum(b => (int)b), Is.EqualTo(16684));
        Assert.That(Bytes(_test.Image(9_999)).Sum(b => (int)b), Is.EqualTo(24390));
    }

    [Test]
    public void FirstLabelsMatchPython()
    {
        Assert.That(Enumerable.Range(0, 10).Select(_train.Label), Is.EqualTo(new long[] { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }));
        Assert.That(Enumerable.Range(0, 10).Select(_test.Label), Is.EqualTo(new long[] { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 }));
        Assert.That(_train.Label(59_999), Is.EqualTo(5));
    }

    [Test]
    public void PixelsAreBytesOver255()
    {
        var pixels = _test.Images.Read<float>();
        for (int i = 0; i < pixels.Length; i++)
        {
            double scaled = pixels[i] * 255.0;
            if (Math.Abs(scaled - Math.Round(scaled)) > 1e-4 || pixels[i] < 0 || pixels[i] > 1)
                Assert.Fail($"pixel {i} = {pixels[i]} is not b/255 for a byte b");
        }
        Assert.That(pixels.ToArray().Max(), Is.EqualTo(1f));
    }
}
