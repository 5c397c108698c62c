namespace Amalgam.Engine.Data.Text;

/// <summary>foldoc-domain: FOLDOC definition (domain tags removed) -> its first domain, over the
/// domains that are the first domain of at least <see cref="MinDomainEntries"/> entries. An entry's
/// key is "foldoc:&lt;headword&gt;"; it is in test when that hashes to 0 mod 5.</summary>
public static class FoldocTasks
{
    public const int MinDomainEntries = 150;

    public static TextTaskData Domain(string name, string foldocDict)
    {
        var entries = FoldocReader.Read(foldocDict).Where(e => e.Domain is not null && e.Text.Length > 0).ToList();
        var classNames = entries.GroupBy(e => e.Domain!)
            .Where(g => g.Count() >= MinDomainEntries)
            .Select(g => g.Key)
            .Order(StringComparer.Ordinal)
            .ToList();
        var candidates = entries.Where(e => classNames.Contains(e.Domain!)).Select(e =>
        {
            string key = "foldoc:" + e.Headword;
            return new TextCandidate(key, e.Text, null, classNames.IndexOf(e.Domain!), StableHash.IsTest(key));
        });
        return TextTaskAssembler.Assemble(name, classNames, false, candidates);
    }
}
