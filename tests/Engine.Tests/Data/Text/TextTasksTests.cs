using Amalgam.Engine.Data.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>
/// The eight tasks built from the real Debian files. Sizes and class counts are the ones measured
/// and written in docs/text-tasks.md; the hand-checked examples come from classes small enough that
/// the caps keep every item (noun.Tops 51 synsets, verb.weather 81, Irish 157 proverbs, every
/// FOLDOC test entry).
/// </summary>
public class TextTasksTests
{
    private readonly Dictionary<string, TextTaskData> _tasks = new();

    [OneTimeSetUp]
    public void BuildAll()
    {
        foreach (string name in TextTasks.Names) _tasks[name] = TextTasks.Build(name);
    }

    /// <summary>The zoo takes prefixes (probe 2,000, then 2,000 for fine-tuning, test 1,000): each must hold every class as evenly as the split allows.</summary>
    [Test]
    public void EveryPrefixIsClassBalanced()
    {
        var pos = TextTasks.Build("wn-pos");
        foreach (var (what, part, each) in new[] { ("train[0, 2000)", pos.Train.Take(2000), 500), ("train[2000, 4000)", pos.Train.Skip(2000).Take(2000), 500), ("test[0, 1000)", pos.Test.Take(1000), 250) })
            Assert.That(part.GroupBy(e => e.Label).OrderBy(g => g.Key).Select(g => g.Count()), Is.EqualTo(Enumerable.Repeat(each, 4)), what);
        foreach (string name in TextTasks.Names)
        {
            var task = TextTasks.Build(name);
            var counts = task.Train.Take(2000).GroupBy(e => e.Label).ToDictionary(g => g.Key, g => g.Count());
            var all = task.Train.GroupBy(e => e.Label).ToDictionary(g => g.Key, g => g.Count());
            // A class is in the first half with at least half of its items, or with its even share.
            foreach (var (label, total) in all)
                Assert.That(counts.GetValueOrDefault(label), Is.GreaterThanOrEqualTo(Math.Min(total / 2, 2000 / task.ClassCount - 1)), $"{name}: class {task.ClassNames[label]}");
        }
    }

    [Test]
    public void NamesAreTheEightInOrderAndUnknownOnesAreListed()
    {
        Assert.That(TextTasks.Names, Is.EqualTo(new[]
        {
            "wn-noun-sense", "wn-verb-sense", "wn-pos", "fortune-topic", "fortune-lang", "foldoc-domain", "wn-hypernym", "wn-example",
        }));
        var e = Assert.Throws<BadInputException>(() => TextTasks.Build("sst2"))!;
        Assert.That(e.Message, Does.Contain("'sst2'").And.Contain("wn-example").And.Contain("foldoc-domain"));
    }

    [TestCase("wn-noun-sense", 26, false, 4000, 2000)]
    [TestCase("wn-verb-sense", 15, false, 4000, 2000)]
    [TestCase("wn-pos", 4, false, 4000, 2000)]
    [TestCase("fortune-topic", 17, false, 4000, 2000)]
    [TestCase("fortune-lang", 9, false, 4000, 2000)]
    [TestCase("foldoc-domain", 12, false, 4000, 1030)]
    [TestCase("wn-hypernym", 2, true, 4000, 2000)]
    [TestCase("wn-example", 2, true, 4000, 2000)]
    public void SizesAreTheMeasuredOnesAndEveryClassIsInBothSplits(string name, int classes, bool isPair, int train, int test)
    {
        var task = _tasks[name];
        Assert.That((task.Name, task.ClassCount, task.IsPair), Is.EqualTo((name, classes, isPair)));
        Assert.That((task.Train.Count, task.Test.Count), Is.EqualTo((train, test)));
        Assert.That(task.ClassNames.Distinct().Count(), Is.EqualTo(classes));
        for (int label = 0; label < classes; label++)
        {
            Assert.That(task.Train.Any(e => e.Label == label), $"{name}: class {task.ClassNames[label]} missing from train");
            Assert.That(task.Test.Any(e => e.Label == label), $"{name}: class {task.ClassNames[label]} missing from test");
        }
        Assert.That(task.Train.Concat(task.Test).All(e => (e.B is not null) == isPair && e.A.Length is > 0 and <= 400));
    }

    [TestCaseSource(typeof(TextTasks), nameof(TextTasks.Names))]
    public void NoTextIsInBothSplitsAndNoPairTwice(string name)
    {
        var task = _tasks[name];
        static IEnumerable<string> Texts(TextExample e) => e.B is null ? [e.A] : [e.A, e.B];
        var testTexts = task.Test.SelectMany(Texts).ToHashSet();
        Assert.That(task.Train.SelectMany(Texts).Where(testTexts.Contains), Is.Empty);
        var all = task.Train.Concat(task.Test).ToList();
        Assert.That(all.Select(e => (e.A, e.B)).Distinct().Count(), Is.EqualTo(all.Count));
    }

    [TestCase("wn-hypernym")]
    [TestCase("wn-example")]
    public void PairTasksAreBalanced(string name)
    {
        foreach (var split in new[] { _tasks[name].Train, _tasks[name].Test })
            Assert.That(Math.Abs(split.Count(e => e.Label == 0) - split.Count(e => e.Label == 1)), Is.LessThanOrEqualTo(1));
    }

    [TestCaseSource(typeof(TextTasks), nameof(TextTasks.Names))]
    public void BuildingAgainGivesTheSameLists(string name)
    {
        var again = TextTasks.Build(name);
        Assert.That(again.ClassNames, Is.EqualTo(_tasks[name].ClassNames));
        Assert.That(again.Train, Is.EqualTo(_tasks[name].Train));
        Assert.That(again.Test, Is.EqualTo(_tasks[name].Test));
    }

    [Test]
    public void EntityAndRainAreInTheirSplitWithTheirSupersense()
    {
        // 00001740 03 n 01 entity 0 ... | that which is perceived or known or inferred to have its own
        //   distinct existence (living or nonliving); "wn:n:00001740" hashes to 0 mod 5: test.
        var nouns = _tasks["wn-noun-sense"];
        Assert.That(nouns.Test, Does.Contain(new TextExample(
            "that which is perceived or known or inferred to have its own distinct existence (living or nonliving)", null, 0)));
        Assert.That(nouns.ClassNames[0], Is.EqualTo("noun.Tops"));
        Assert.That(nouns.Train.Concat(nouns.Test).Count(e => e.Label == 0), Is.EqualTo(51));   // grep -c '^[0-9]* 03 ' data.noun

        // 02756558 43 v 02 rain 0 rain_down 0 ... | precipitate as rain
        var verbs = _tasks["wn-verb-sense"];
        int weather = verbs.ClassNames.ToList().IndexOf("verb.weather");
        Assert.That(weather, Is.EqualTo(14));
        Assert.That(verbs.Train.Concat(verbs.Test).Count(e => e.Label == weather), Is.EqualTo(81));   // grep -c '^[0-9]* 43 ' data.verb
        Assert.That(SplitOf(verbs, "wn:v:02756558"), Does.Contain(new TextExample("precipitate as rain", null, weather)));
    }

    [Test]
    public void IrishProverbAndFoldocEntryLandWithTheirLabels()
    {
        var languages = _tasks["fortune-lang"];
        Assert.That(languages.ClassNames, Is.EqualTo(new[]
            { "English", "German", "Italian", "Spanish", "Portuguese", "Polish", "Czech", "Irish", "Esperanto" }));
        Assert.That(SplitOf(languages, "fortune:ga/proverbs:0"),
            Does.Contain(new TextExample("Is fearr rith maith ná droch sheasamh.", null, 7)));

        var foldoc = _tasks["foldoc-domain"];
        Assert.That(foldoc.ClassNames, Is.EqualTo(new[]
        {
            "communications", "company", "database", "hardware", "jargon", "language", "mathematics", "networking",
            "operating system", "programming", "storage", "tool",
        }));
        var dollarOne = SplitOf(foldoc, "foldoc:$1").Single(e => e.A.StartsWith("The first positional parameter in shell programming"));
        Assert.That(foldoc.ClassNames[dollarOne.Label], Is.EqualTo("programming"));
        Assert.That(foldoc.Train.Concat(foldoc.Test).Any(e => e.A.Contains("<programming>") || e.A.Contains("<language")), Is.False);
    }

    [Test]
    public void FortuneTopicUsesTheEnglishFilesOfAtLeast300Entries()
    {
        // grep -c '^%$' on each top-level file, the English ones of 300 or more entries.
        Assert.That(_tasks["fortune-topic"].ClassNames, Is.EqualTo(new[]
        {
            "art", "computers", "cookie", "definitions", "fortunes", "knghtbrd", "linux", "men-women", "miscellaneous",
            "people", "platitudes", "politics", "science", "songs-poems", "wisdom", "work", "zippy",
        }));
    }

    [Test]
    public void EveryHypernymPositiveIsARealDirectHypernym()
    {
        var wordNet = WordNet.Load("/usr/share/wordnet");
        var definitionsOf = wordNet.Synsets.ToLookup(s => TextTaskAssembler.Normalize(s.Definition));
        bool IsHypernymPair(TextExample e) => definitionsOf[e.A].Any(a => a.Pointers.Any(p => p.IsHypernym &&
            TextTaskAssembler.Normalize(wordNet.Find(p.TargetPos, p.TargetOffset)!.Definition) == e.B));
        var task = _tasks["wn-hypernym"];
        foreach (var e in task.Train.Concat(task.Test))
            Assert.That(IsHypernymPair(e), Is.EqualTo(e.Label == 1), $"{e.A} / {e.B}");
    }

    [Test]
    public void EveryExamplePositiveIsItsOwnSenseAndEveryNegativeASenseOfTheSameWord()
    {
        var wordNet = WordNet.Load("/usr/share/wordnet");
        var owners = wordNet.Synsets.SelectMany(s => s.Examples.Select(x => (Example: TextTaskAssembler.Normalize(x), Synset: s)))
            .ToLookup(x => x.Example, x => x.Synset);
        var task = _tasks["wn-example"];
        foreach (var e in task.Train.Concat(task.Test))
        {
            var owner = owners[e.A].ToList();
            Assert.That(owner, Is.Not.Empty, e.A);
            bool own = owner.Any(s => TextTaskAssembler.Normalize(s.Definition) == e.B);
            bool sibling = owner.Any(s => s.Words.SelectMany(w => wordNet.SensesOf(s.FilePos, w))
                .Any(o => o.Key != s.Key && TextTaskAssembler.Normalize(o.Definition) == e.B));
            Assert.That(e.Label == 1 ? own : sibling, $"{e.Label}: {e.A} / {e.B}");
        }
    }

    private static IReadOnlyList<TextExample> SplitOf(TextTaskData task, string key) =>
        StableHash.IsTest(key) ? task.Test : task.Train;
}
