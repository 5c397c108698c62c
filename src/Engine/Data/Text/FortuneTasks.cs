namespace Amalgam.Engine.Data.Text;

/// <summary>The two fortune tasks. An entry's key is "fortune:&lt;relative path&gt;:&lt;index&gt;"
/// (index among the file's non-empty entries); it is in test when that hashes to 0 mod 5.</summary>
public static class FortuneTasks
{
    /// <summary>fortune-topic uses the English files with at least this many entries.</summary>
    public const int MinTopicEntries = 300;

    /// <summary>fortune-topic: English fortune -> the file it came from (class names: file names, sorted).</summary>
    public static TextTaskData Topic(string name, string fortunesDir)
    {
        var files = FortuneFiles.Discover(fortunesDir)
            .Where(f => f.Language == "English")
            .Select(f => (File: f, Entries: Read(fortunesDir, f)))
            .Where(f => f.Entries.Count >= MinTopicEntries)
            .ToList();
        var classNames = files.Select(f => f.File.Name).ToList();
        var candidates = files.SelectMany((f, label) => Candidates(f.File, f.Entries, label));
        return TextTaskAssembler.Assemble(name, classNames, false, candidates);
    }

    /// <summary>fortune-lang: fortune -> language, over the languages that have files (in <see cref="FortuneFiles.Languages"/> order).</summary>
    public static TextTaskData Language(string name, string fortunesDir)
    {
        var files = FortuneFiles.Discover(fortunesDir);
        var classNames = FortuneFiles.Languages.Select(l => l.Language)
            .Where(language => files.Any(f => f.Language == language)).ToList();
        var candidates = files.SelectMany(f => Candidates(f, Read(fortunesDir, f), classNames.IndexOf(f.Language)));
        return TextTaskAssembler.Assemble(name, classNames, false, candidates);
    }

    private static List<string> Read(string fortunesDir, FortuneFile file) =>
        FortuneReader.ReadEntries(Path.Combine(fortunesDir, file.RelativePath));

    private static IEnumerable<TextCandidate> Candidates(FortuneFile file, List<string> entries, int label) =>
        entries.Select((entry, index) =>
        {
            string key = $"fortune:{file.RelativePath}:{index}";
            return new TextCandidate(key, entry, null, label, StableHash.IsTest(key));
        });
}
