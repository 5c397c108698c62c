namespace Amalgam.TestSupport;

/// <summary>The models in tests/fixtures (made by make_fixtures.py) and scratch folders for tests.</summary>
public static class Fixtures
{
    public static readonly string[] Models =
    [
        "vit_tiny_op14", "vit_tiny_op17", "clip_tiny_op14", "clip_tiny_op17", "roberta_tiny_op14", "roberta_tiny_op17",
    ];

    public const string External = "vit_tiny_op17_external";

    /// <summary><see cref="Models"/> and the one with external data.</summary>
    public static IEnumerable<string> ModelsAndExternal => Models.Append(External);

    private static readonly Lazy<string> Folder = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (System.IO.File.Exists(Path.Combine(candidate, "make_fixtures.py"))) return candidate;
        }
        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    });

    public static string Dir => Folder.Value;

    /// <summary>Path of a file in tests/fixtures.</summary>
    public static string File(string fileName) => Path.Combine(Dir, fileName);

    /// <summary>Path of "&lt;name&gt;.onnx".</summary>
    public static string Onnx(string name) => Path.Combine(Dir, name + ".onnx");

    /// <summary>Path of "&lt;name&gt;.io.safetensors" (inputs, torch outputs, some torch parameters).</summary>
    public static string Io(string name) => Path.Combine(Dir, name + ".io.safetensors");

    /// <summary>A new empty folder, deleted when disposed.</summary>
    public static TempDir NewTempDir() => new();

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("amalgam-onnx-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
