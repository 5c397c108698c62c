using System.Diagnostics;
using System.Text.Json;
using Amalgam.Engine.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Text;

/// <summary>
/// <see cref="WordPieceTokenizer"/> on the MiniLM vocab against tests/fixtures/text/tokenizer_reference.json
/// (make_tokenizer_reference.py, an independent Python implementation of the original BERT rules)
/// and against ids looked up by hand in vocab.txt (id = line number - 1).
/// </summary>
public class TokenizerTests
{
    private sealed record Row(string A, string? B);
    private sealed record Case(string Name, int MaxLength, Row[] Texts, string[][] Tokens, long[][] InputIds, long[][] AttentionMask, long[][] TokenTypeIds);
    private sealed record Reference(Case[] Cases);

    private static readonly Lazy<Reference> Ref = new(() => JsonSerializer.Deserialize<Reference>(
        System.IO.File.ReadAllText(Fixtures.File("text/tokenizer_reference.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!);

    private static string VocabPath => EncoderFiles.Get("minilm").Vocab;
    private static readonly Lazy<WordPieceTokenizer> Tok = new(() => WordPieceTokenizer.FromVocab(VocabPath));
    private static readonly Lazy<string[]> Vocab = new(() => System.IO.File.ReadAllLines(VocabPath));

    /// <summary>
    /// Reference cases where we knowingly differ from the original BERT: the case, and our tokens.
    /// greek_final_sigma: Python's str.lower() applies Unicode's final-sigma rule, so the original
    /// makes "ΟΔΟΣ" "οδος" (##ος); we lower-case one character at a time (σ, ##ο ##σ), as
    /// Microsoft.ML.Tokenizers does and as HuggingFace's Rust tokenizers (the fast tokenizer
    /// sentence-transformers trains with) do, since that is what the fine-tuned encoders saw.
    /// </summary>
    private static readonly Dictionary<string, string> KnownDifferences = new()
    {
        ["greek_final_sigma"] = "[CLS] ο ##δ ##ο ##σ σ ##ο ##φ ##ο ##σ σ ##ο ##φ ##ια [SEP]",
    };

    public static IEnumerable<string> CaseNames() => Ref.Value.Cases.Select(c => c.Name);

    [Test]
    public void ReferenceHasTheTrickyCases()
    {
        Assert.That(Ref.Value.Cases, Has.Length.GreaterThanOrEqualTo(25));
        Assert.That(Ref.Value.Cases.Select(c => c.Name), Is.Unique);
        Assert.That(KnownDifferences.Keys, Is.SubsetOf(CaseNames()));
    }

    [TestCaseSource(nameof(CaseNames))]
    public void MatchesReference(string name)
    {
        var c = Ref.Value.Cases.Single(x => x.Name == name);
        using var batch = Tok.Value.Encode(c.Texts.Select(r => (r.A, r.B)).ToArray(), c.MaxLength);
        Assert.That((batch.Count, batch.Length), Is.EqualTo((c.Texts.Length, c.MaxLength)));
        for (int row = 0; row < c.Texts.Length; row++)
        {
            var ids = Row64(batch.InputIds, row, c.MaxLength);
            if (KnownDifferences.TryGetValue(name, out var ours))
            {
                Assert.That(Tokens(ids), Is.EqualTo(ours), "our documented output");
                Assert.That(string.Join(" ", c.Tokens[row]), Is.Not.EqualTo(ours), "the reference now agrees: drop the known difference");
                continue;
            }
            Assert.Multiple(() =>
            {
                Assert.That(ids, Is.EqualTo(c.InputIds[row]), $"row {row}: ours {Tokens(ids)}\nreference {string.Join(" ", c.Tokens[row])}");
                Assert.That(Row64(batch.AttentionMask, row, c.MaxLength), Is.EqualTo(c.AttentionMask[row]), $"row {row} attention_mask");
                Assert.That(Row64(batch.TokenTypeIds, row, c.MaxLength), Is.EqualTo(c.TokenTypeIds[row]), $"row {row} token_type_ids");
            });
        }
    }

    // hello = line 7593, world = line 2089 of vocab.txt; [CLS] 101, [SEP] 102, [PAD] 0.
    [Test]
    public void HelloWorldByHand()
    {
        using var b = Tok.Value.Encode([("hello world", null)], 8);
        Assert.That(b.InputIds.Read<long>().ToArray(), Is.EqualTo(new long[] { 101, 7592, 2088, 102, 0, 0, 0, 0 }));
        Assert.That(b.AttentionMask.Read<long>().ToArray(), Is.EqualTo(new long[] { 1, 1, 1, 1, 0, 0, 0, 0 }));
        Assert.That(b.TokenTypeIds.Read<long>().ToArray(), Is.EqualTo(new long[8]));
    }

    // , = 1010, ! = 999, cafe = 7668, resume = 13746, naive = 15743 (grep -nx in vocab.txt, minus 1).
    [Test]
    public void CaseAccentsAndPunctuationByHand()
    {
        using var b = Tok.Value.Encode([("Hello, WORLD!", null), ("Café RÉSUMÉ naïve", null)], 6);
        Assert.That(Row64(b.InputIds, 0, 6), Is.EqualTo(new long[] { 101, 7592, 1010, 2088, 999, 102 }));
        Assert.That(Row64(b.InputIds, 1, 6), Is.EqualTo(new long[] { 101, 7668, 13746, 15743, 102, 0 }));
    }

    // a = 1037, b = 1038, c = 1039.
    [Test]
    public void PairTokenTypes()
    {
        using var b = Tok.Value.Encode([("a b", "c"), ("a", "")], 8);
        Assert.That(Row64(b.InputIds, 0, 8), Is.EqualTo(new long[] { 101, 1037, 1038, 102, 1039, 102, 0, 0 }));
        Assert.That(Row64(b.TokenTypeIds, 0, 8), Is.EqualTo(new long[] { 0, 0, 0, 0, 1, 1, 0, 0 }));
        Assert.That(Row64(b.AttentionMask, 0, 8), Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 1, 0, 0 }));
        // An empty second text still ends with its own [SEP], of type 1.
        Assert.That(Row64(b.InputIds, 1, 8), Is.EqualTo(new long[] { 101, 1037, 102, 102, 0, 0, 0, 0 }));
        Assert.That(Row64(b.TokenTypeIds, 1, 8), Is.EqualTo(new long[] { 0, 0, 0, 1, 0, 0, 0, 0 }));
    }

    [TestCase(10, null, 5, 3, 0)]
    [TestCase(10, 2, 8, 3, 2)]   // budget 5: only the longer first text loses tokens
    [TestCase(2, 10, 8, 2, 3)]
    [TestCase(10, 10, 8, 3, 2)]  // equally long: b loses first, so a keeps the odd token
    [TestCase(10, 9, 8, 3, 2)]
    [TestCase(9, 10, 9, 3, 3)]
    [TestCase(0, 10, 8, 0, 5)]
    [TestCase(4, 1, 8, 4, 1)]    // fits: nothing removed
    public void LongestFirstTruncation(int a, int? b, int maxLength, int keepA, int keepB) =>
        Assert.That(WordPieceTokenizer.LongestFirst(a, b, maxLength), Is.EqualTo((keepA, keepB)));

    [Test]
    public void PairTruncatesTheLongerText()
    {
        using var b = Tok.Value.Encode([("a a a a a a", "b c")], 8);
        Assert.That(Row64(b.InputIds, 0, 8), Is.EqualTo(new long[] { 101, 1037, 1037, 1037, 102, 1038, 1039, 102 }));
        Assert.That(Row64(b.TokenTypeIds, 0, 8), Is.EqualTo(new long[] { 0, 0, 0, 0, 0, 1, 1, 1 }));
        Assert.That(Row64(b.AttentionMask, 0, 8), Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 1, 1, 1 }));
    }

    [Test]
    public void MaxLengthTooSmall()
    {
        var single = Assert.Throws<BadInputException>(() => Tok.Value.Encode([("a b", null)], 2))!;
        Assert.That(single.Message, Does.StartWith("max length 2:"));
        Assert.Throws<BadInputException>(() => Tok.Value.Encode([("a", null), ("a", "b")], 4));
        using (var ok = Tok.Value.Encode([("a b", null)], 3))
            Assert.That(ok.InputIds.Read<long>().ToArray(), Is.EqualTo(new long[] { 101, 1037, 102 }));
        using (var ok = Tok.Value.Encode([("a a", "b b")], 5))
            Assert.That(ok.InputIds.Read<long>().ToArray(), Is.EqualTo(new long[] { 101, 1037, 102, 1038, 102 }));
    }

    [Test]
    public void MissingVocabNamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), "amalgam-no-such-dir", "vocab.txt");
        var e = Assert.Throws<BadInputException>(() => WordPieceTokenizer.FromVocab(path))!;
        Assert.That(e.Message, Does.StartWith(path + ":"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void VocabWithoutSpecialTokensNamesTheFile()
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("vocab.txt");
        System.IO.File.WriteAllText(path, "hello\r\nworld\r\n");
        var e = Assert.Throws<BadInputException>(() => WordPieceTokenizer.FromVocab(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": not a WordPiece vocab"));
    }

    // Padding is the vocab's [PAD], wherever it is; ids are line indices.
    [Test]
    public void OtherVocabLayout()
    {
        using var dir = Fixtures.NewTempDir();
        string path = dir.File("vocab.txt");
        System.IO.File.WriteAllLines(path, ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "a", "##b"]);
        using var b = WordPieceTokenizer.FromVocab(path).Encode([("ab A x", null)], 7);
        Assert.That(b.InputIds.Read<long>().ToArray(), Is.EqualTo(new long[] { 1, 5, 6, 5, 0, 2, 3 }));
        Assert.That(b.AttentionMask.Read<long>().ToArray(), Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 1, 0 }));
    }

    [Test]
    public void BatchTensors()
    {
        using var b = Tok.Value.Encode([("x", null), ("y", "z")], 7);
        Assert.That((b.Count, b.Length), Is.EqualTo((2, 7)));
        Assert.That(b.ByInputName.Keys, Is.EquivalentTo(new[] { "input_ids", "attention_mask", "token_type_ids" }));
        foreach (var (name, t) in b.ByInputName)
        {
            Assert.That(t.Name, Is.EqualTo(name));
            Assert.That(t.DType, Is.EqualTo(DType.I64));
            Assert.That(t.ShapeArray(), Is.EqualTo(new long[] { 2, 7 }));
        }
        Assert.That(b.ByInputName["input_ids"], Is.SameAs(b.InputIds));
        using var empty = Tok.Value.Encode([], 4);
        Assert.That(empty.InputIds.ShapeArray(), Is.EqualTo(new long[] { 0, 4 }));
    }

    [Test]
    public void ConcurrentEncodesAgreeWithSerial()
    {
        var texts = ManyTexts(4000);
        using var serial = Tok.Value.Encode(texts, 32);
        long[] expected = serial.InputIds.Read<long>().ToArray();
        var results = new long[8][];
        Parallel.For(0, results.Length, i =>
        {
            using var b = Tok.Value.Encode(texts, 32);
            results[i] = b.InputIds.Read<long>().ToArray();
        });
        foreach (var r in results) Assert.That(r, Is.EqualTo(expected));
    }

    // The text benchmark encodes ~100k short texts; that must take seconds, not minutes.
    [Test]
    public void HundredThousandShortTextsInSeconds()
    {
        var texts = ManyTexts(100_000);
        var watch = Stopwatch.StartNew();
        using var b = Tok.Value.Encode(texts, 64);
        watch.Stop();
        TestContext.Out.WriteLine($"100k texts: {watch.Elapsed.TotalSeconds:F2} s");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)));
    }

    private static (string A, string? B)[] ManyTexts(int n)
    {
        var rows = Ref.Value.Cases.SelectMany(c => c.Texts).ToArray();
        return Enumerable.Range(0, n).Select(i => (rows[i % rows.Length].A + " " + i, i % 3 == 0 ? rows[(i + 1) % rows.Length].A : null)).ToArray();
    }

    private static long[] Row64(Tensor t, int row, int length) => t.Read<long>(row * (long)length, length).ToArray();

    private static string Tokens(long[] ids) => string.Join(" ", ids.Where(id => id != 0).Select(id => Vocab.Value[id]));
}
