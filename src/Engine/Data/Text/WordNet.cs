using System.Collections.Concurrent;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Text;

/// <summary>The four WordNet data files of one folder, parsed once per process and folder
/// (the text tasks build five tasks from them) and looked up by offset or by word.</summary>
public sealed class WordNet
{
    /// <summary>The data files in the order they are read: file name and the pos letter of their synsets' keys.</summary>
    public static readonly IReadOnlyList<(string File, char Pos)> DataFiles =
        [("data.noun", 'n'), ("data.verb", 'v'), ("data.adj", 'a'), ("data.adv", 'r')];

    private static readonly ConcurrentDictionary<string, Lazy<WordNet>> Cache = new();

    private readonly Dictionary<(char Pos, long Offset), WordNetSynset> _byOffset = new();
    private readonly Dictionary<(char Pos, string Word), List<WordNetSynset>> _byWord = new();

    /// <summary>Every synset: nouns, verbs, adjectives (satellites included), adverbs, each in file order.</summary>
    public IReadOnlyList<WordNetSynset> Synsets { get; }

    private WordNet(IReadOnlyList<WordNetSynset> synsets)
    {
        Synsets = synsets;
        foreach (var s in synsets)
        {
            _byOffset[(s.FilePos, s.Offset)] = s;
            foreach (string word in s.Words.Select(NormalizeWord).Distinct())
            {
                if (!_byWord.TryGetValue((s.FilePos, word), out var senses)) _byWord[(s.FilePos, word)] = senses = [];
                senses.Add(s);
            }
        }
    }

    /// <summary>The parsed folder, read on first use and kept for the process.</summary>
    public static WordNet Load(string dir)
    {
        string full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) throw new BadInputException($"{dir}: WordNet folder not found");
        return Cache.GetOrAdd(full, d => new Lazy<WordNet>(() => Parse(d))).Value;
    }

    private static WordNet Parse(string dir) =>
        new(DataFiles.SelectMany(f => WordNetReader.ReadDataFile(Path.Combine(dir, f.File), f.Pos)).ToList());

    /// <summary>The synset at <paramref name="offset"/> of the data file of <paramref name="pos"/> (n, v, a, r), or null.</summary>
    public WordNetSynset? Find(char pos, long offset) => _byOffset.GetValueOrDefault((pos, offset));

    /// <summary>The synsets of data file <paramref name="pos"/> holding <paramref name="word"/> (any case, '_' or ' ').</summary>
    public IReadOnlyList<WordNetSynset> SensesOf(char pos, string word) =>
        _byWord.TryGetValue((pos, NormalizeWord(word)), out var senses) ? senses : [];

    /// <summary>A word as the look-ups compare it: lower case, spaces for underscores.</summary>
    public static string NormalizeWord(string word) => word.Replace('_', ' ').ToLowerInvariant();
}
