using System.Text.Json;
using Amalgam.Engine.Text;
using BertOptions = Microsoft.ML.Tokenizers.BertOptions;
using BertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;

namespace Amalgam.Engine.Tests.Text;

/// <summary>
/// Why <see cref="WordPieceTokenizer"/> does its own basic tokenization and leaves only WordPiece to
/// Microsoft.ML.Tokenizers 2.0.1: the library's <see cref="BertTokenizer"/>, with the options of
/// bert-base-uncased, differs from the original BERT on these inputs. Each assertion is the
/// library's actual output; when a new version fixes one, the test fails and says which.
/// </summary>
public class TokenizerLibraryTests
{
    private static readonly Lazy<string> VocabPath = new(() => EncoderFiles.Get("minilm").Vocab);
    private static readonly Lazy<string[]> Vocab = new(() => System.IO.File.ReadAllLines(VocabPath.Value));

    private static readonly Lazy<BertTokenizer> Library = new(() => BertTokenizer.Create(VocabPath.Value,
        new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true, IndividuallyTokenizeCjk = true, SplitOnSpecialTokens = false }));

    // Original BERT (and ours) after the arrow in each comment.
    [TestCase("lots\t\tof\nlines", "lots ##of ##lines")]    // tab, CR, LF deleted, not spaces: words merge -> lots of lines
    [TestCase("$100 a+b=c <x> ~y^", "100 a b c x y")]       // ASCII symbols dropped -> $ 100 a + b = c < x > ~ y ^
    [TestCase("€5 25°C ½", "5 25 c")]                       // other symbols (S*) dropped -> € ##5 25 ##° ##c ½
    [TestCase("I ❤ 🍕!", "i !")]                            // emoji dropped -> i [UNK] [UNK] !
    [TestCase("𝔘𝔫𝔦", "")]                                  // letters outside the BMP dropped -> [UNK]
    [TestCase("a_b", "a ##_ ##b")]                          // _ (Pc) kept inside the word -> a _ b
    [TestCase("zero\u200bwidth", "zero width")]             // format chars (Cf) split words -> zero ##wi ##dt ##h
    [TestCase("दुनिया", "द ##न य")]                          // spacing marks (Mc) dropped -> द ##न ##ि ##य ##ा
    // string.Normalize(FormD) is a no-op under InvariantGlobalization (Directory.Build.props), so
    // the library cannot strip accents here; invariant ToLower leaves İ as it is.
    [TestCase("Café", "[UNK]")]                             // -> cafe
    [TestCase("İstanbul", "[UNK]")]                         // -> istanbul
    [TestCase("ひらがな", "[UNK]")]                          // -> ひ ##ら ##か ##な (dakuten stripped)
    public void LibraryBasicTokenizationDiffers(string text, string libraryTokens)
    {
        var ids = Library.Value.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        Assert.That(string.Join(" ", ids.Select(i => Vocab.Value[i])), Is.EqualTo(libraryTokens));
        Assert.That(WordPieceTokenizer.FromVocab(VocabPath.Value).WordPieceIds(text), Is.Not.EqualTo(ids));
    }

    // The reference cases where the library alone (its basic tokenizer + WordPiece) gives other
    // word pieces than WordPieceTokenizer, which matches the reference (TokenizerTests).
    [Test]
    public void ReferenceCasesTheLibraryGetsWrong()
    {
        var ours = WordPieceTokenizer.FromVocab(VocabPath.Value);
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(Fixtures.File("text/tokenizer_reference.json")));
        var differing = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray())
            foreach (var row in c.GetProperty("texts").EnumerateArray())
                foreach (var key in new[] { "a", "b" })
                {
                    if (row.GetProperty(key).GetString() is not string text) continue;
                    var library = Library.Value.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
                    if (!library.SequenceEqual(ours.WordPieceIds(text))) differing.Add(c.GetProperty("name").GetString()!);
                }
        Assert.That(differing, Is.EqualTo(new[]
        {
            "accents", "ascii_symbols", "batch_mixed", "cjk_and_kana_and_hangul", "control_and_format_chars", "czech",
            "emoji_and_unknown_scripts", "german", "greek_final_sigma", "polish", "rtl_and_indic", "turkish_dotted_i",
            "unicode_punctuation", "unicode_symbols", "whitespace_runs_and_tabs",
        }));
    }
}
