using Amalgam.Kernels;
using Microsoft.ML.Tokenizers;

namespace Amalgam.Engine.Text;

/// <summary>
/// Uncased BERT tokenization (bert-base-uncased, all-MiniLM-L6-v2, arctic-embed-xs) into model
/// inputs. The vocab, the special tokens and WordPiece are Microsoft.ML.Tokenizers'
/// <see cref="BertTokenizer"/>; the words it gets come from <see cref="BertBasicTokenizer"/>, the
/// original BERT's basic tokenizer, because the library's own (2.0.1) deletes tabs and newlines
/// instead of splitting on them, drops symbols such as <c>$ + = &lt; €</c> and emoji, and cannot
/// strip accents in globalization-invariant mode (TokenizerLibraryTests shows each case). Special
/// tokens written in a text ("[SEP]") are plain text. Texts become <c>[CLS] a [SEP]</c> or
/// <c>[CLS] a [SEP] b [SEP]</c>, truncated and padded as HuggingFace does (see <see cref="Encode"/>).
/// Immutable after creation: concurrent <see cref="Encode"/> calls are safe.
/// </summary>
public sealed class WordPieceTokenizer
{
    /// <summary>Shortest max length for single texts: <c>[CLS]</c>, one token, <c>[SEP]</c>.</summary>
    public const int MinLengthSingle = 3;

    /// <summary>Shortest max length for pairs: one token of each text between the three special tokens.</summary>
    public const int MinLengthPair = 5;

    private readonly BertTokenizer _bert;

    private WordPieceTokenizer(BertTokenizer bert) => _bert = bert;

    /// <summary>The tokenizer of a WordPiece <c>vocab.txt</c> (one token a line, id = line index).</summary>
    public static WordPieceTokenizer FromVocab(string vocabPath)
    {
        if (!File.Exists(vocabPath)) throw new BadInputException($"{vocabPath}: vocab file not found");
        // Only WordPiece runs in the library (see Tokenize); these options matter for nothing else,
        // but say what the input is: uncased, accents stripped, "[SEP]" in a text is text.
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = true,
            IndividuallyTokenizeCjk = true,
            SplitOnSpecialTokens = false,
        };
        BertTokenizer bert;
        try
        {
            bert = BertTokenizer.Create(vocabPath, options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new BadInputException($"{vocabPath}: not a WordPiece vocab ({e.Message})", e);
        }
        return new WordPieceTokenizer(bert);
    }

    /// <summary>
    /// Encodes single texts (<c>B</c> null: <c>[CLS] a [SEP]</c>) and pairs (<c>[CLS] a [SEP] b [SEP]</c>,
    /// token types 0 up to the first <c>[SEP]</c>, 1 after; an empty <c>b</c> still gets its <c>[SEP]</c>).
    /// Too long rows are cut to <paramref name="maxLength"/> tokens: a single text loses its last
    /// tokens; a pair loses one token at a time from the end of the longer text, from <c>b</c> when
    /// both are equally long (HuggingFace's "longest first"). Rows are padded with <c>[PAD]</c> = 0
    /// to exactly <paramref name="maxLength"/>.
    /// </summary>
    public TokenizedBatch Encode(IReadOnlyList<(string A, string? B)> texts, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        bool anyPair = texts.Any(t => t.B is not null);
        int min = anyPair ? MinLengthPair : MinLengthSingle;
        if (maxLength < min)
            throw new BadInputException($"max length {maxLength}: must be at least {MinLengthSingle} for single texts and {MinLengthPair} for pairs ({(anyPair ? "this batch has pairs" : "[CLS] text [SEP]")})");

        var batch = new TokenizedBatch(texts.Count, maxLength);
        var basic = new BertBasicTokenizer();
        List<int> idsA = [], idsB = [];
        try
        {
            var ids = batch.InputIds.Write<long>();
            var mask = batch.AttentionMask.Write<long>();
            var types = batch.TokenTypeIds.Write<long>();
            if (_bert.PaddingTokenId != 0) ids.Fill(_bert.PaddingTokenId); // the tensors start zero-filled
            for (int row = 0; row < texts.Count; row++)
            {
                var (a, b) = texts[row];
                ArgumentNullException.ThrowIfNull(a, $"{nameof(texts)}[{row}].A");
                int start = row * maxLength;
                WriteRow(a, b, basic, idsA, idsB, maxLength, ids.Slice(start, maxLength), mask.Slice(start, maxLength), types.Slice(start, maxLength));
            }
            return batch;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    private void WriteRow(string a, string? b, BertBasicTokenizer basic, List<int> idsA, List<int> idsB, int maxLength,
        Span<long> ids, Span<long> mask, Span<long> types)
    {
        Tokenize(a, basic, idsA);
        if (b is not null) Tokenize(b, basic, idsB);
        var (keepA, keepB) = LongestFirst(idsA.Count, b is null ? null : idsB.Count, maxLength);

        int n = 0;
        ids[n++] = _bert.ClassificationTokenId;
        for (int i = 0; i < keepA; i++) ids[n++] = idsA[i];
        ids[n++] = _bert.SeparatorTokenId;
        int firstSegment = n;
        if (b is not null)
        {
            for (int i = 0; i < keepB; i++) ids[n++] = idsB[i];
            ids[n++] = _bert.SeparatorTokenId;
        }
        mask[..n].Fill(1);
        types[firstSegment..n].Fill(1);
    }

    /// <summary>How many tokens of each text stay: HuggingFace's "longest first", one token at a time.</summary>
    internal static (int A, int B) LongestFirst(int a, int? b, int maxLength)
    {
        if (b is not int lb) return (Math.Min(a, maxLength - 2), 0);
        int budget = maxLength - 3;
        while (a + lb > budget)
        {
            if (a > lb) a--;
            else lb--;
        }
        return (a, lb);
    }

    /// <summary>The word-piece ids of one text, without special tokens or truncation.</summary>
    internal List<int> WordPieceIds(string text)
    {
        List<int> ids = [];
        Tokenize(text, new BertBasicTokenizer(), ids);
        return ids;
    }

    // The word pieces of a text, without special tokens: our basic words, the library's WordPiece on each.
    private void Tokenize(string text, BertBasicTokenizer basic, List<int> ids)
    {
        ids.Clear();
        basic.Split(text);
        for (int w = 0; w < basic.Count; w++)
            ids.AddRange(_bert.EncodeToIds(basic[w], addSpecialTokens: false, considerPreTokenization: false, considerNormalization: false));
    }
}
