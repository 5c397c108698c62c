namespace Amalgam.Engine.Data.Text;

/// <summary>One labelled example: a text <see cref="A"/>, for sentence-pair tasks a second text
/// <see cref="B"/> (null otherwise), and the class index <see cref="Label"/>.</summary>
public sealed record TextExample(string A, string? B, int Label);

/// <summary>A text classification task: its class names (the class index is the position in the
/// list) and its fixed train and test examples. docs/text-tasks.md says how each one is made.</summary>
public sealed record TextTaskData(
    string Name, IReadOnlyList<string> ClassNames, bool IsPair,
    IReadOnlyList<TextExample> Train, IReadOnlyList<TextExample> Test)
{
    public int ClassCount => ClassNames.Count;
}

/// <summary>Where the Debian text sources lie; the defaults are where the packages install them
/// (wordnet-base, fortunes*, dict-foldoc). Tests point them at small hand-written files.</summary>
/// <param name="WordNetDir">Folder holding data.noun, data.verb, data.adj and data.adv.</param>
/// <param name="FortunesDir">The fortunes folder: English files at the top, languages in sub-folders.</param>
/// <param name="FoldocDict">The FOLDOC dictzip file; its dictd index lies beside it (foldoc.index).</param>
public sealed record TextSources(
    string WordNetDir = "/usr/share/wordnet",
    string FortunesDir = "/usr/share/games/fortunes",
    string FoldocDict = "/usr/share/dictd/foldoc.dict.dz");
