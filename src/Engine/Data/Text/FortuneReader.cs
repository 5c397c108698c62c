using System.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Text;

/// <summary>Reads one fortune(6) file: entries separated by lines holding only <c>%</c>.</summary>
public static class FortuneReader
{
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>The file's entries in order, without whitespace-only ones; text decoded as UTF-8 or,
    /// where the bytes are not valid UTF-8, as Latin-1, and overstriking resolved.</summary>
    public static List<string> ReadEntries(string path)
    {
        if (!File.Exists(path)) throw new BadInputException($"{path}: fortune file not found");
        string text = Decode(File.ReadAllBytes(path));
        var entries = new List<string>();
        var current = new StringBuilder();
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line == "%")
            {
                Flush();
                continue;
            }
            current.Append(line).Append('\n');
        }
        Flush();
        return entries;

        void Flush()
        {
            string entry = ResolveOverstrike(current.ToString()).Trim();
            if (entry.Length > 0) entries.Add(entry);
            current.Clear();
        }
    }

    /// <summary>UTF-8 when the bytes are valid UTF-8 (a BOM is dropped), else Latin-1: the older
    /// fortune files are Latin-1 and every Latin-1 byte string decodes.</summary>
    public static string Decode(byte[] bytes)
    {
        try { return StrictUtf8.GetString(bytes).TrimStart('\uFEFF'); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(bytes); }
    }

    /// <summary>Applies backspaces the way a terminal shows them: "____\b\b\b\bBODY" (underlined
    /// on a printer) reads "BODY", so each backspace removes the character before it.</summary>
    public static string ResolveOverstrike(string text)
    {
        if (!text.Contains('\b')) return text;
        var shown = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c != '\b') shown.Append(c);
            else if (shown.Length > 0 && shown[^1] != '\n') shown.Length--;
        }
        return shown.ToString();
    }
}
