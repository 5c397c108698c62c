namespace Amalgam.Engine.Data.Text;

/// <summary>One pointer of a WordNet synset (wndb(5WN)): its symbol (<c>@</c> hypernym, <c>@i</c>
/// instance hypernym, ...), the target synset's offset in <c>data.&lt;pos&gt;</c> of
/// <see cref="TargetPos"/> (n, v, a, r), and the source/target word numbers (0 = whole synset).</summary>
public sealed record WordNetPointer(string Symbol, long TargetOffset, char TargetPos, int SourceWord, int TargetWord)
{
    /// <summary>A direct hypernym: <c>@</c> or <c>@i</c>.</summary>
    public bool IsHypernym => Symbol is "@" or "@i";
}

/// <summary>One WordNet 3.0 synset, as parsed from a data line.</summary>
/// <param name="FilePos">The data file it came from: n, v, a or r (satellites live in data.adj).</param>
/// <param name="Offset">Its synset_offset, unique within its data file.</param>
/// <param name="LexFile">lex_filenum: the lexicographer file, i.e. the supersense (see <see cref="WordNetLexNames"/>).</param>
/// <param name="SynsetType">ss_type: n, v, a, s (adjective satellite) or r.</param>
/// <param name="Words">The words as written in the file (underscores for spaces), adjective markers such as (a) removed.</param>
/// <param name="Definition">The gloss before its example sentences.</param>
/// <param name="Examples">The example sentences of the gloss, without their quotes.</param>
public sealed record WordNetSynset(
    char FilePos, long Offset, int LexFile, char SynsetType, IReadOnlyList<string> Words,
    IReadOnlyList<WordNetPointer> Pointers, string Definition, IReadOnlyList<string> Examples)
{
    /// <summary>The stable key the text tasks hash: "wn:&lt;pos&gt;:&lt;offset&gt;".</summary>
    public string Key => $"wn:{FilePos}:{Offset:D8}";
}

/// <summary>The names of WordNet's 45 lexicographer files (lexnames(5WN)), indexed by lex_filenum.</summary>
public static class WordNetLexNames
{
    public static readonly IReadOnlyList<string> All =
    [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
        "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
        "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
        "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
        "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
        "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
        "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
        "verb.weather", "adj.ppl",
    ];

    public const int FirstNoun = 3, LastNoun = 28, FirstVerb = 29, LastVerb = 43;
}
