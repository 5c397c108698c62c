using System.Globalization;
using System.Text.RegularExpressions;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Text;

/// <summary>Parses WordNet 3.0 data files (wndb(5WN)): <c>synset_offset lex_filenum ss_type w_cnt
/// word lex_id [...] p_cnt [ptr...] [frames...] | gloss</c>, with w_cnt and lex_id in hex and, in
/// data.verb only, <c>f_cnt + f_num w_num ...</c> frames after the pointers. Licence lines start
/// with two spaces and are skipped.</summary>
public static partial class WordNetReader
{
    /// <summary>Every synset of one data file; <paramref name="filePos"/> is n, v, a or r.</summary>
    public static List<WordNetSynset> ReadDataFile(string path, char filePos)
    {
        if (!File.Exists(path)) throw new BadInputException($"{path}: WordNet data file not found");
        var synsets = new List<WordNetSynset>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.StartsWith("  ", StringComparison.Ordinal) || line.Length == 0) continue;
            try { synsets.Add(ParseLine(line, filePos)); }
            catch (FormatException e) { throw new BadInputException($"{path} line {lineNumber}: {e.Message}"); }
        }
        return synsets;
    }

    /// <summary>One data line; FormatException saying what is wrong otherwise.</summary>
    public static WordNetSynset ParseLine(string line, char filePos)
    {
        int bar = line.IndexOf('|');
        if (bar < 0) throw new FormatException("no '|' before the gloss");
        string[] t = line[..bar].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int i = 0;
        string Next(string what) => i < t.Length ? t[i++] : throw new FormatException($"line ends before {what}");

        long offset = Number(Next("synset_offset"), NumberStyles.None, "synset_offset");
        int lexFile = (int)Number(Next("lex_filenum"), NumberStyles.None, "lex_filenum");
        if (lexFile >= WordNetLexNames.All.Count) throw new FormatException($"lex_filenum {lexFile} out of range");
        string ssType = Next("ss_type");
        if (ssType.Length != 1 || !"nvasr".Contains(ssType[0])) throw new FormatException($"bad ss_type '{ssType}'");

        int wordCount = (int)Number(Next("w_cnt"), NumberStyles.AllowHexSpecifier, "w_cnt");
        var words = new string[wordCount];
        for (int w = 0; w < wordCount; w++)
        {
            string word = Next("word");
            words[w] = word.EndsWith(')') ? AdjectiveMarker().Replace(word, "") : word;
            Number(Next("lex_id"), NumberStyles.AllowHexSpecifier, "lex_id");
        }

        int pointerCount = (int)Number(Next("p_cnt"), NumberStyles.None, "p_cnt");
        var pointers = new WordNetPointer[pointerCount];
        for (int p = 0; p < pointerCount; p++)
        {
            string symbol = Next("pointer_symbol");
            long target = Number(Next("pointer offset"), NumberStyles.None, "pointer offset");
            string pos = Next("pointer pos");
            string sourceTarget = Next("pointer source/target");
            if (pos.Length != 1 || !"nvar".Contains(pos[0])) throw new FormatException($"bad pointer pos '{pos}'");
            if (sourceTarget.Length != 4) throw new FormatException($"bad pointer source/target '{sourceTarget}'");
            pointers[p] = new WordNetPointer(symbol, target, pos[0],
                (int)Number(sourceTarget[..2], NumberStyles.AllowHexSpecifier, "source"),
                (int)Number(sourceTarget[2..], NumberStyles.AllowHexSpecifier, "target"));
        }

        // Verb frames carry nothing the tasks use; they are read only to check the line is whole.
        if (filePos == 'v' && i < t.Length)
        {
            int frameCount = (int)Number(Next("f_cnt"), NumberStyles.None, "f_cnt");
            for (int f = 0; f < frameCount; f++)
            {
                if (Next("frame '+'") != "+") throw new FormatException("frame does not start with '+'");
                Number(Next("f_num"), NumberStyles.None, "f_num");
                Number(Next("w_num"), NumberStyles.AllowHexSpecifier, "w_num");
            }
        }
        if (i != t.Length) throw new FormatException($"unexpected '{t[i]}' before the gloss");

        var (definition, examples) = SplitGloss(line[(bar + 1)..]);
        return new WordNetSynset(filePos, offset, lexFile, ssType[0], words, pointers, definition, examples);
    }

    /// <summary>Splits a gloss into its definition and example sentences. The examples start at the
    /// first double quote that follows a ';', ':' or ',' (WordNet mostly writes <c>; "..."</c>, a
    /// few glosses <c>: "..."</c> or <c>, "..."</c>); quotes elsewhere belong to the definition
    /// (<c>the phrase "make strides"</c>). Text outside quotes after that point, such as an
    /// attribution <c>- Henry Miller</c>, is dropped.</summary>
    public static (string Definition, IReadOnlyList<string> Examples) SplitGloss(string gloss)
    {
        gloss = gloss.Trim();
        var start = ExampleStart().Match(gloss);
        // A few glosses end in a stray ';' ("inaccessible and sparsely populated;"): not part of the definition.
        if (!start.Success) return (gloss.TrimEnd(';', ' '), []);
        string definition = gloss[..start.Index].TrimEnd(';', ' ');
        var examples = Quoted().Matches(gloss[(start.Index + 1)..])
            .Select(m => m.Groups[1].Value.Trim())
            .Where(e => e.Length > 0)
            .ToArray();
        return (definition, examples);
    }

    private static long Number(string token, NumberStyles style, string what) =>
        long.TryParse(token, style, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new FormatException($"bad {what} '{token}'");

    [GeneratedRegex(@"\((a|p|ip)\)$")]
    private static partial Regex AdjectiveMarker();

    [GeneratedRegex(@"[;:,]\s*""")]
    private static partial Regex ExampleStart();

    [GeneratedRegex(@"""([^""]*)""")]
    private static partial Regex Quoted();
}
