using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Text;

/// <summary>One FOLDOC entry.</summary>
/// <param name="Headword">The entry's first line, e.g. "$1".</param>
/// <param name="Domains">The items of its first domain tag in order, lower case (<c>&lt;language, humour&gt;</c>: language, humour); empty when it has none.</param>
/// <param name="Text">The definition: the body with domain tags, {cross-reference} braces and date lines removed.</param>
public sealed record FoldocEntry(string Headword, IReadOnlyList<string> Domains, string Text)
{
    /// <summary>The domain the foldoc-domain task labels the entry with: the first one, or null.</summary>
    public string? Domain => Domains.Count > 0 ? Domains[0] : null;
}

/// <summary>Reads the FOLDOC dictd files: <c>foldoc.dict.dz</c> (dictzip, which is gzip) and its
/// index beside it, whose lines are <c>headword TAB offset TAB length</c> in dictd's base64
/// numbers. Each distinct (offset, length) is one entry (several headwords may share it): its
/// headword line(s), a blank line, then the indented body whose paragraphs start with domain tags
/// such as <c>&lt;programming&gt;</c> or, for numbered senses, <c>2. &lt;networking&gt;</c>.</summary>
public static partial class FoldocReader
{
    private const string Base64Digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /// <summary>Every entry, in dictionary order; <paramref name="dictPath"/> ends in .dict.dz or .dict.</summary>
    public static List<FoldocEntry> Read(string dictPath)
    {
        string indexPath = IndexPathOf(dictPath);
        if (!File.Exists(dictPath)) throw new BadInputException($"{dictPath}: FOLDOC dictionary not found");
        if (!File.Exists(indexPath)) throw new BadInputException($"{indexPath}: FOLDOC index not found");
        byte[] dict = ReadDict(dictPath);
        var spans = new SortedSet<(long Offset, long Length)>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(indexPath))
        {
            lineNumber++;
            string[] fields = line.Split('\t');
            if (fields.Length != 3)
                throw new BadInputException($"{indexPath} line {lineNumber}: expected 'headword TAB offset TAB length'");
            long offset = DecodeNumber(fields[1], indexPath, lineNumber), length = DecodeNumber(fields[2], indexPath, lineNumber);
            if (offset + length > dict.Length)
                throw new BadInputException($"{indexPath} line {lineNumber}: entry runs past the end of {dictPath}");
            spans.Add((offset, length));
        }
        var entries = spans.Select(s => ParseEntry(Encoding.UTF8.GetString(dict, (int)s.Offset, (int)s.Length))).ToList();
        // A few domain tags stand inside a paragraph ("other nations for <telegraph>", or text damaged
        // around "<security>"): any tag naming only domains that open some entry is removed as well,
        // so the text never shows a label.
        var knownDomains = entries.SelectMany(e => e.Domains).ToHashSet(StringComparer.Ordinal);
        return entries.Select(e => e with { Text = RemoveKnownTags(e.Text, knownDomains).Trim() }).ToList();
    }

    /// <summary>Removes every tag anywhere in <paramref name="text"/> whose items are all in <paramref name="domains"/>.</summary>
    public static string RemoveKnownTags(string text, IReadOnlySet<string> domains) =>
        InlineTag().Replace(text, m =>
            m.Groups["tag"].Value.Split(',').All(d => domains.Contains(d.Trim().ToLowerInvariant())) ? "" : m.Value);

    /// <summary>One entry's text as stored in the dictionary.</summary>
    public static FoldocEntry ParseEntry(string raw)
    {
        string[] lines = raw.Replace("\r", "").Split('\n');
        int blank = Array.FindIndex(lines, l => l.Trim().Length == 0);
        string headword = lines[0].Trim();
        string body = blank < 0 ? "" : string.Join('\n', lines[(blank + 1)..]);

        var tag = DomainTag().Match(body);
        string[] domains = tag.Success
            ? tag.Groups["tag"].Value.Split(',').Select(d => d.Trim().ToLowerInvariant()).ToArray()
            : [];
        string text = DomainTag().Replace(body, m => m.Groups["lead"].Value);
        text = DateLine().Replace(text, "").Replace("{", "").Replace("}", "");
        return new FoldocEntry(headword, domains, text.Trim());
    }

    /// <summary>foldoc.dict.dz or foldoc.dict -> foldoc.index beside it.</summary>
    public static string IndexPathOf(string dictPath)
    {
        string stem = dictPath.EndsWith(".dz", StringComparison.Ordinal) ? dictPath[..^3] : dictPath;
        if (stem.EndsWith(".dict", StringComparison.Ordinal)) stem = stem[..^5];
        return stem + ".index";
    }

    private static byte[] ReadDict(string dictPath)
    {
        using var file = File.OpenRead(dictPath);
        if (!dictPath.EndsWith(".dz", StringComparison.Ordinal))
        {
            using var plain = new MemoryStream();
            file.CopyTo(plain);
            return plain.ToArray();
        }
        try
        {
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var bytes = new MemoryStream();
            gzip.CopyTo(bytes);
            return bytes.ToArray();
        }
        catch (InvalidDataException e) { throw new BadInputException($"{dictPath}: not a gzip/dictzip file ({e.Message})"); }
    }

    private static long DecodeNumber(string digits, string indexPath, int lineNumber)
    {
        if (digits.Length == 0) throw new BadInputException($"{indexPath} line {lineNumber}: empty number");
        long value = 0;
        foreach (char c in digits)
        {
            int digit = Base64Digits.IndexOf(c);
            if (digit < 0) throw new BadInputException($"{indexPath} line {lineNumber}: bad base64 digit '{c}'");
            value = value * 64 + digit;
        }
        return value;
    }

    // A domain tag opens a line, after at most a pronunciation "/zed/", an abbreviation "(IVR)" and a
    // sense number "2.", in that order: comma-separated names of letters, digits, spaces, '-' and '/'.
    // E-mail addresses in angle brackets have '@' and '.', so they never match.
    [GeneratedRegex(@"^(?<lead>[ \t]*(?:/[^/\n]*/[ \t]*)?(?:\([^()\n]*\)[ \t]*)?(?:\d+\.[ \t]*)?)<(?<tag>" + TagBody + @")>[ \t]*", RegexOptions.Multiline)]
    private static partial Regex DomainTag();

    [GeneratedRegex("<(?<tag>" + TagBody + ")>")]
    private static partial Regex InlineTag();

    private const string TagBody = @"[A-Za-z0-9][A-Za-z0-9 /\-]*(?:,[ \t]*[A-Za-z0-9][A-Za-z0-9 /\-]*)*";

    [GeneratedRegex(@"^[ \t]*\(\d{4}-\d{2}-\d{2}\)[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex DateLine();
}
