using System.Globalization;
using System.Text;

namespace Amalgam.Engine.Text;

/// <summary>
/// BERT's accent stripping (NFD, then drop category Mn) for one code point at a time. Needed
/// because <see cref="string.Normalize()"/> does not decompose in globalization-invariant mode,
/// which this repository builds with: "café" would stay "café" and become [UNK].
/// </summary>
internal static partial class AccentStripping
{
    // Hangul syllables decompose algorithmically (Unicode 3.12) into conjoining jamo (category Lo).
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, TCount = 28, NCount = 588, SCount = 11172;

    private static readonly Dictionary<int, string> Stripped = Parse();

    /// <summary>
    /// Appends what <paramref name="r"/> becomes after NFD without non-spacing marks: nothing for
    /// a mark, its base letters for a precomposed letter, the rune itself otherwise.
    /// </summary>
    public static void Append(Rune r, List<Rune> into)
    {
        int cp = r.Value;
        if (cp < 0xC0) into.Add(r); // nothing below À decomposes; the common case
        else if (cp - SBase is >= 0 and < SCount)
        {
            int s = cp - SBase;
            into.Add(new Rune(LBase + s / NCount));
            into.Add(new Rune(VBase + s % NCount / TCount));
            if (s % TCount != 0) into.Add(new Rune(TBase + s % TCount));
        }
        else if (Stripped.TryGetValue(cp, out var parts))
        {
            foreach (Rune p in parts.EnumerateRunes()) into.Add(p);
        }
        else if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark) into.Add(r);
    }

    private static Dictionary<int, string> Parse()
    {
        var map = new Dictionary<int, string>();
        foreach (var entry in Table.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = entry.IndexOf('=');
            var sb = new StringBuilder();
            foreach (var part in entry[(eq + 1)..].Split('.', StringSplitOptions.RemoveEmptyEntries))
                sb.Append(char.ConvertFromUtf32(int.Parse(part, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            map[int.Parse(entry.AsSpan(0, eq), NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = sb.ToString();
        }
        return map;
    }
}
