using System.Globalization;
using System.Text;

namespace Amalgam.Engine.Text;

/// <summary>
/// The uncased basic tokenizer of the original BERT (google-research/bert tokenization.py):
/// drops U+0000, U+FFFD and control/format characters, splits on whitespace, strips accents,
/// lower-cases, and makes every punctuation character (Unicode P* and the ASCII symbols) and every
/// CJK ideograph a word of its own. The words then go to WordPiece. One difference: lower-casing
/// is per character, so a word-final Σ becomes σ (as in HuggingFace's fast tokenizers), where the
/// original's Python str.lower() gives ς. Holds reusable buffers: one instance per thread.
/// </summary>
internal sealed class BertBasicTokenizer
{
    private readonly List<(int Start, int Length)> _words = [];
    private readonly List<Rune> _parts = [];
    private char[] _chars = new char[256];
    private int _length, _wordStart;

    /// <summary>Number of words of the last <see cref="Split"/>.</summary>
    public int Count => _words.Count;

    /// <summary>Word <paramref name="i"/> of the last <see cref="Split"/>; valid until the next call.</summary>
    public ReadOnlySpan<char> this[int i] => _chars.AsSpan(_words[i].Start, _words[i].Length);

    /// <summary>Splits <paramref name="text"/> into BERT's basic words (a lone surrogate counts as U+FFFD).</summary>
    public void Split(string text)
    {
        _words.Clear();
        _length = _wordStart = 0;
        foreach (Rune r in text.EnumerateRunes())
        {
            int cp = r.Value;
            var category = Rune.GetUnicodeCategory(r);
            if (cp is 0 or 0xFFFD) continue;
            if (IsWhitespace(cp, category)) EndWord();
            else if (category is UnicodeCategory.Control or UnicodeCategory.Format) continue;
            else if (IsCjkIdeograph(cp))
            {
                EndWord();
                AppendNormalized(r);
                EndWord();
            }
            else AppendNormalized(r);
        }
        EndWord();
    }

    private void AppendNormalized(Rune r)
    {
        _parts.Clear();
        AccentStripping.Append(r, _parts);
        foreach (var part in _parts)
        {
            // Decompose first, then lower-case: İ (U+0130) becomes I + a dot above, then i, as
            // Python's "İ".lower() = "i̇" does after stripping; the invariant ToLower leaves İ as is.
            var lower = Rune.ToLowerInvariant(part);
            if (IsPunctuation(lower))
            {
                EndWord();
                Append(lower);
                EndWord();
            }
            else Append(lower);
        }
    }

    private void Append(Rune r)
    {
        if (_length + 2 > _chars.Length) Array.Resize(ref _chars, 2 * _chars.Length);
        _length += r.EncodeToUtf16(_chars.AsSpan(_length));
    }

    private void EndWord()
    {
        if (_length > _wordStart) _words.Add((_wordStart, _length - _wordStart));
        _wordStart = _length;
    }

    // Tab, CR, LF and category Zs as in the original; Zl/Zp too, which its str.split() splits on.
    private static bool IsWhitespace(int cp, UnicodeCategory c) =>
        cp is ' ' or '\t' or '\n' or '\r' || c is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    // All ASCII non-alphanumerics count ($, +, <, ^, `, | ...), as in the original.
    private static bool IsPunctuation(Rune r) =>
        r.Value is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    // The "Chinese character" blocks of the original: CJK Unified Ideographs (+ Extensions A-E) and Compatibility Ideographs.
    private static bool IsCjkIdeograph(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
