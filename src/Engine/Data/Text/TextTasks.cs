using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Text;

/// <summary>The catalogue of the eight text classification tasks made from Debian packages
/// (WordNet 3.0, fortunes in nine languages, FOLDOC); docs/text-tasks.md documents every rule
/// and the measured sizes. Labels come from the sources' own human annotation.</summary>
public static class TextTasks
{
    private static readonly (string Name, Func<string, TextSources, TextTaskData> Build)[] All =
    [
        ("wn-noun-sense", (n, s) => WordNetTasks.Supersense(n, WordNet.Load(s.WordNetDir), 'n')),
        ("wn-verb-sense", (n, s) => WordNetTasks.Supersense(n, WordNet.Load(s.WordNetDir), 'v')),
        ("wn-pos", (n, s) => WordNetTasks.PartOfSpeech(n, WordNet.Load(s.WordNetDir))),
        ("fortune-topic", (n, s) => FortuneTasks.Topic(n, s.FortunesDir)),
        ("fortune-lang", (n, s) => FortuneTasks.Language(n, s.FortunesDir)),
        ("foldoc-domain", (n, s) => FoldocTasks.Domain(n, s.FoldocDict)),
        ("wn-hypernym", (n, s) => WordNetTasks.Hypernym(n, WordNet.Load(s.WordNetDir))),
        ("wn-example", (n, s) => WordNetTasks.Example(n, WordNet.Load(s.WordNetDir))),
    ];

    /// <summary>The task names in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToArray();

    /// <summary>Builds the task called <paramref name="name"/> from <paramref name="sources"/>
    /// (the Debian install paths by default); BadInputException listing the names otherwise.</summary>
    public static TextTaskData Build(string name, TextSources? sources = null)
    {
        foreach (var task in All)
            if (task.Name == name) return task.Build(name, sources ?? new TextSources());
        throw new BadInputException($"unknown text task '{name}' (known: {string.Join(", ", Names)})");
    }
}
