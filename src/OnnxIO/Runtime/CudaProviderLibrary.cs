using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>
/// ONNX Runtime loads its CUDA provider (<c>libonnxruntime_providers_cuda.so</c>) only when a session
/// asks for it, and reports a missing CUDA library as "Failed to load shared library" after logging the
/// library's name. Loading the provider ourselves first gets the loader's own message, which names the
/// first missing dependency (e.g. <c>libcublasLt.so.13</c>), so the one-line refusal can say exactly
/// what is missing. A provider that loads stays loaded; ORT then finds it already in the process.
/// </summary>
internal static class CudaProviderLibrary
{
    public const string FileName = "libonnxruntime_providers_cuda.so";

    /// <summary>What the GPU flavour's provider (ORT 1.31.0 for Linux) links against.</summary>
    public const string Needs = "the NVIDIA driver (libcuda.so.1) and CUDA 13's libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10 and cuDNN 9 on the library path";

    /// <summary>Null when the provider library loads (or is not found next to ORT, which then reports for itself); else the loader's reason.</summary>
    public static string? LoadError()
    {
        if (!OperatingSystem.IsLinux()) return null;
        string? path = Candidates().FirstOrDefault(File.Exists);
        if (path is null) return null;
        try
        {
            NativeLibrary.Load(path);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return Reason(e.Message);
        }
    }

    /// <summary>The loader's own words (dlerror: "libX.so.N: cannot open shared object file: ..."), without .NET's preamble.</summary>
    internal static string Reason(string message)
    {
        var m = Regex.Match(message, @"([^\s/':]+\.so[.\d]*): cannot open shared object file[^\r\n]*");
        return m.Success ? m.Value.TrimEnd('.', ' ') : message.ReplaceLineEndings(" ").Trim();
    }

    private static IEnumerable<string> Candidates()
    {
        string root = AppContext.BaseDirectory;
        yield return Path.Combine(root, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", FileName);
        yield return Path.Combine(root, "runtimes", "linux-x64", "native", FileName);
        yield return Path.Combine(root, FileName);
    }
}
