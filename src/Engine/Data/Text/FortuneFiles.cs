using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Text;

/// <summary>One fortune file the text tasks use: its language and its path below the fortunes folder.</summary>
public sealed record FortuneFile(string Language, string RelativePath)
{
    /// <summary>The file name without folder, e.g. "computers" or "witze".</summary>
    public string Name => Path.GetFileName(RelativePath);
}

/// <summary>Which fortune files are read and in which language. English files lie at the top of the
/// fortunes folder, Brazilian Portuguese in <c>brasil</c> beside them, the other languages in
/// sub-folders. Skipped: symbolic links (the top-level Italian names link into it/, cz/ and sk/
/// link into cs/, *.u8 link to their plain file or are empty), *.dat indexes, *.u8 files,
/// offensive <c>off</c> folders, ASCII-art files (pictures, not language) and cs/klasik-sk
/// (Slovak, not Czech).</summary>
public static class FortuneFiles
{
    /// <summary>The languages in class order, with the sub-folder each one is read from (null: the top level).</summary>
    public static readonly IReadOnlyList<(string Language, string? Folder)> Languages =
    [
        ("English", null), ("German", "de"), ("Italian", "it"), ("Spanish", "es"), ("Portuguese", null),
        ("Polish", "pl"), ("Czech", "cs"), ("Irish", "ga"), ("Esperanto", "eo"),
    ];

    private const string PortugueseFile = "brasil";
    private static readonly HashSet<string> SkippedPaths = ["ascii-art", "de/asciiart", "cs/klasik-sk"];

    /// <summary>The files used, sorted by relative path ('/'-separated); missing language folders are left out.</summary>
    public static IReadOnlyList<FortuneFile> Discover(string fortunesDir)
    {
        if (!Directory.Exists(fortunesDir))
            throw new BadInputException($"{fortunesDir}: fortunes folder not found");
        var files = new List<FortuneFile>();
        foreach (string name in RegularFiles(fortunesDir))
            files.Add(new FortuneFile(name == PortugueseFile ? "Portuguese" : "English", name));
        foreach (var (language, folder) in Languages)
        {
            if (folder is null) continue;
            string dir = Path.Combine(fortunesDir, folder);
            if (!Directory.Exists(dir) || new DirectoryInfo(dir).LinkTarget is not null) continue;
            files.AddRange(RegularFiles(dir).Select(name => new FortuneFile(language, folder + "/" + name)));
        }
        return files.Where(f => !SkippedPaths.Contains(f.RelativePath))
            .OrderBy(f => f.RelativePath, StringComparer.Ordinal).ToList();
    }

    // Plain files only: sub-folders (off/) are not entered and links duplicate other files.
    private static IEnumerable<string> RegularFiles(string dir) =>
        new DirectoryInfo(dir).EnumerateFiles()
            .Where(f => f.LinkTarget is null && f.Extension is not ".dat" and not ".u8")
            .Select(f => f.Name);
}
