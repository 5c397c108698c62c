using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>Outputs go to a temp file in the destination folder and are renamed into place, so a
/// reader never sees a half-written file and a failed write leaves the old file untouched.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Refuses a destination that is a folder or lies in a folder that does not exist, before any work:
    /// "OPTION PATH: expected EXPECTED file path in an existing folder" (EXPECTED e.g. "a .json").
    /// </summary>
    public static void RequireFileInExistingFolder(string option, string path, string expected)
    {
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (Directory.Exists(path) || folder is null || !Directory.Exists(folder))
            throw new BadInputException($"{option} {path}: expected {expected} file path in an existing folder");
    }

    /// <summary>A fresh hidden temp path beside <paramref name="path"/> (same folder, so rename is atomic).</summary>
    public static string TempPathFor(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        string dir = System.IO.Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no folder", nameof(path));
        return System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Writes all bytes through a temp file and renames it to <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        string temp = TempPathFor(path);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no BOM) through a temp file renamed to <paramref name="path"/>.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
