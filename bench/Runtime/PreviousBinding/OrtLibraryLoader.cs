using System.Runtime.InteropServices;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>A loaded ONNX Runtime library: where it came from and its <c>OrtGetApiBase</c> entry point.</summary>
internal readonly record struct LoadedOrtLibrary(string Path, IntPtr Handle, IntPtr GetApiBase);

/// <summary>
/// Finds and loads the ONNX Runtime native library, in this order:
/// 1. the file named by <c>AMALGAM_ORT_LIBRARY</c> (if set it must load: a wrong explicit path is an error, not a fallback);
/// 2. the application folder (<see cref="AppContext.BaseDirectory"/>), where the build copies the cached library;
/// 3. the system loader (LD_LIBRARY_PATH, ldconfig, ...).
/// The library stays loaded for the life of the process.
/// </summary>
internal static class OrtLibraryLoader
{
    public const string EnvironmentVariable = "AMALGAM_ORT_LIBRARY";
    private const string EntryPoint = "OrtGetApiBase";
    private const string FixHint =
        "run ./build.sh --target=Bootstrap (downloads ONNX Runtime and copies it beside the program) or set AMALGAM_ORT_LIBRARY to the library's path";

    /// <summary>File names of the library on this platform, most specific first.</summary>
    public static IReadOnlyList<string> PlatformFileNames { get; } =
        OperatingSystem.IsWindows() ? ["onnxruntime.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib", "libonnxruntime.1.dylib"]
        : ["libonnxruntime.so.1", "libonnxruntime.so"];

    // Bench copy: the native library the official package put beside the program, so both bindings drive
    // the very same libonnxruntime.so in one process.
    public static LoadedOrtLibrary Load() =>
        Load(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime.so"), AppContext.BaseDirectory, PlatformFileNames);

    /// <summary>The search itself, with its inputs explicit so tests can drive every branch.</summary>
    public static LoadedOrtLibrary Load(string? explicitPath, string appFolder, IReadOnlyList<string> fileNames)
    {
        string error;
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            if (TryLoad(explicitPath, out var chosen, out error)) return chosen;
            throw new OrtLibraryNotFoundException(
                $"{EnvironmentVariable}={explicitPath}: cannot load ONNX Runtime ({error}); fix the path, or unset it and {FixHint}");
        }

        foreach (string name in fileNames)
        {
            string path = Path.Combine(appFolder, name);
            if (File.Exists(path) && TryLoad(path, out var local, out _)) return local;
        }
        foreach (string name in fileNames)
        {
            // A bare file name goes through the system loader's own search.
            if (TryLoad(name, out var system, out _)) return system;
        }
        throw new OrtLibraryNotFoundException(
            $"ONNX Runtime native library ({string.Join(" or ", fileNames)}) not found: {EnvironmentVariable} is not set, it is not in {appFolder}, and the system loader has none; {FixHint}");
    }

    private static bool TryLoad(string pathOrName, out LoadedOrtLibrary library, out string error)
    {
        library = default;
        IntPtr handle;
        try
        {
            handle = NativeLibrary.Load(pathOrName);
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
        {
            error = OneLine(e.Message);
            return false;
        }
        if (!NativeLibrary.TryGetExport(handle, EntryPoint, out IntPtr getApiBase))
        {
            NativeLibrary.Free(handle);
            error = $"{pathOrName} has no {EntryPoint} export, so it is not ONNX Runtime";
            return false;
        }
        error = "";
        library = new LoadedOrtLibrary(ResolvePath(pathOrName), handle, getApiBase);
        return true;
    }

    private static string ResolvePath(string pathOrName) =>
        pathOrName.Contains(Path.DirectorySeparatorChar) ? Path.GetFullPath(pathOrName) : pathOrName;

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
