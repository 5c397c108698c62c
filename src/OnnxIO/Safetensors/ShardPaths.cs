using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// Shard file names from an index are untrusted: they must be plain relative paths that stay inside
/// the index's folder, also after following symbolic links.
/// </summary>
internal static class ShardPaths
{
    private const int MaxLinkDepth = 40; // Linux's ELOOP limit

    /// <summary>The full path of shard <paramref name="shard"/> of the index at <paramref name="indexPath"/>.</summary>
    public static string Resolve(string indexPath, string folder, string shard)
    {
        string Fail(string why) => throw new BadInputException($"{indexPath}: shard {SafetensorsHeaderParser.Quote(shard)}: {why}");
        if (shard.Length == 0) Fail("empty file name");
        if (shard.Contains('\0') || shard.Contains('\\') || System.IO.Path.IsPathRooted(shard))
            Fail("must be a relative path inside the index's folder");
        if (shard.Split('/').Any(part => part == ".."))
            Fail("must not contain '..'");
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, shard));
        if (!IsInside(full, folder)) Fail("must stay inside the index's folder");
        if (!File.Exists(full)) Fail("file does not exist");
        try
        {
            if (!IsInside(RealPath(full), RealPath(folder))) Fail("is a symbolic link leading outside the index's folder");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail("cannot resolve: " + SafetensorsHeaderParser.OneLine(e.Message));
        }
        return full;
    }

    private static bool IsInside(string path, string folder)
    {
        string f = System.IO.Path.TrimEndingDirectorySeparator(folder) + System.IO.Path.DirectorySeparatorChar;
        return path.StartsWith(f, StringComparison.Ordinal);
    }

    /// <summary>The absolute path with every symbolic link resolved (like realpath(3)).</summary>
    public static string RealPath(string path) => RealPath(path, 0);

    private static string RealPath(string path, int depth)
    {
        if (depth > MaxLinkDepth) throw new IOException($"too many levels of symbolic links at '{path}'");
        string full = System.IO.Path.GetFullPath(path);
        string root = System.IO.Path.GetPathRoot(full)!;
        string current = root;
        foreach (string part in full[root.Length..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = System.IO.Path.Combine(current, part);
            // current is already link-free, so a relative target resolves against the real parent.
            if (new FileInfo(next).LinkTarget is string target)
                next = RealPath(System.IO.Path.Combine(current, target), depth + 1);
            current = next;
        }
        return current;
    }
}
