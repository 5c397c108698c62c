namespace Amalgam.Engine.Data.Text;

/// <summary>The five WordNet tasks. Every synset falls in test when its key "wn:&lt;pos&gt;:&lt;offset&gt;"
/// hashes to 0 mod 5, the same in all five, and a pair uses two synsets of the same split only,
/// so no gloss is in both splits.</summary>
public static class WordNetTasks
{
    public static readonly IReadOnlyList<string> PosClassNames = ["noun", "verb", "adjective", "adverb"];
    public static readonly IReadOnlyList<string> HypernymClassNames = ["not hypernym", "hypernym"];
    public static readonly IReadOnlyList<string> ExampleClassNames = ["other sense", "same sense"];

    /// <summary>wn-noun-sense (lex files 3..28) or wn-verb-sense (29..43): definition -> supersense.</summary>
    public static TextTaskData Supersense(string name, WordNet wordNet, char pos)
    {
        var (first, last) = pos == 'n'
            ? (WordNetLexNames.FirstNoun, WordNetLexNames.LastNoun)
            : (WordNetLexNames.FirstVerb, WordNetLexNames.LastVerb);
        var classNames = WordNetLexNames.All.Skip(first).Take(last - first + 1).ToList();
        var candidates = wordNet.Synsets
            .Where(s => s.FilePos == pos && s.LexFile >= first && s.LexFile <= last)
            .Select(s => new TextCandidate(s.Key, s.Definition, null, s.LexFile - first, StableHash.IsTest(s.Key)));
        return TextTaskAssembler.Assemble(name, classNames, false, candidates);
    }

    /// <summary>wn-pos: definition -> noun, verb, adjective (satellites included), adverb.</summary>
    public static TextTaskData PartOfSpeech(string name, WordNet wordNet)
    {
        var candidates = wordNet.Synsets.Select(s =>
            new TextCandidate(s.Key, s.Definition, null, "nvar".IndexOf(s.FilePos), StableHash.IsTest(s.Key)));
        return TextTaskAssembler.Assemble(name, PosClassNames, false, candidates);
    }

    /// <summary>wn-hypernym: (A's definition, B's definition) -> 1 when B is a direct hypernym
    /// (@ or @i) of A. Each positive gets one negative: a synset of the same pos and split, picked
    /// by hash, that is neither A, nor one of A's direct hypernyms, nor another of A's negatives.</summary>
    public static TextTaskData Hypernym(string name, WordNet wordNet)
    {
        var pools = SplitPools(wordNet);
        var candidates = new List<TextCandidate>();
        foreach (var a in wordNet.Synsets)
        {
            bool isTest = StableHash.IsTest(a.Key);
            var hypernyms = a.Pointers.Where(p => p.IsHypernym)
                .Select(p => wordNet.Find(p.TargetPos, p.TargetOffset))
                .OfType<WordNetSynset>()
                .Where(h => StableHash.IsTest(h.Key) == isTest)
                .ToList();
            var excluded = hypernyms.Select(h => h.Key).Append(a.Key).ToHashSet();
            foreach (var b in hypernyms)
            {
                string key = $"wn-hypernym:{a.Key}>{b.Key}";
                candidates.Add(new TextCandidate(key, a.Definition, b.Definition, 1, isTest));
                var negative = Pick(pools.GetValueOrDefault((a.FilePos, isTest)) ?? [], key, s => !excluded.Contains(s.Key));
                if (negative is null) continue;
                excluded.Add(negative.Key);   // A's negatives differ, so none is lost as a duplicate pair
                candidates.Add(new TextCandidate($"wn-hypernym:{a.Key}!{negative.Key}", a.Definition, negative.Definition, 0, isTest));
            }
        }
        return TextTaskAssembler.Assemble(name, HypernymClassNames, true, candidates, balance: true);
    }

    /// <summary>wn-example: (example sentence, definition) -> 1 for the synset the example belongs
    /// to, 0 for another synset (same pos, same split) of one of its words, picked by hash. The
    /// words are the synset's words that occur in the example, or all of them where none does.
    /// Examples whose words have no other sense give neither pair.</summary>
    public static TextTaskData Example(string name, WordNet wordNet)
    {
        var candidates = new List<TextCandidate>();
        foreach (var s in wordNet.Synsets.Where(s => s.Examples.Count > 0))
        {
            bool isTest = StableHash.IsTest(s.Key);
            for (int i = 0; i < s.Examples.Count; i++)
            {
                string example = s.Examples[i];
                var others = WordsIllustrated(s, example)
                    .SelectMany(w => wordNet.SensesOf(s.FilePos, w))
                    .Where(o => o.Key != s.Key && StableHash.IsTest(o.Key) == isTest)
                    .DistinctBy(o => o.Key)
                    .OrderBy(o => o.Key, StringComparer.Ordinal)
                    .ToList();
                string key = $"wn-example:{s.Key}:{i}";
                var negative = Pick(others, key, _ => true);
                if (negative is null) continue;
                candidates.Add(new TextCandidate(key + ":+", example, s.Definition, 1, isTest));
                candidates.Add(new TextCandidate(key + ":-", example, negative.Definition, 0, isTest));
            }
        }
        return TextTaskAssembler.Assemble(name, ExampleClassNames, true, candidates, balance: true);
    }

    private static IEnumerable<string> WordsIllustrated(WordNetSynset s, string example)
    {
        var words = s.Words.Select(WordNet.NormalizeWord).Distinct().ToList();
        string lower = example.ToLowerInvariant();
        var found = words.Where(w => lower.Contains(w, StringComparison.Ordinal)).ToList();
        return found.Count > 0 ? found : words;
    }

    // Synsets of each data file and split, in key order, for drawing negatives.
    private static Dictionary<(char Pos, bool IsTest), List<WordNetSynset>> SplitPools(WordNet wordNet) =>
        wordNet.Synsets.GroupBy(s => (s.FilePos, StableHash.IsTest(s.Key)))
            .ToDictionary(g => g.Key, g => g.OrderBy(s => s.Key, StringComparer.Ordinal).ToList());

    // The pool member at hash(key) mod count, or the next acceptable one after it (wrapping).
    private static WordNetSynset? Pick(List<WordNetSynset> pool, string key, Func<WordNetSynset, bool> acceptable)
    {
        if (pool.Count == 0) return null;
        int start = (int)(StableHash.Fnv1a64("negative:" + key) % (ulong)pool.Count);
        for (int step = 0; step < pool.Count; step++)
        {
            var candidate = pool[(start + step) % pool.Count];
            if (acceptable(candidate)) return candidate;
        }
        return null;
    }
}
