using Amalgam.Engine.Data.Text;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>The task builders on the hand-written sources, where nothing is capped, so every
/// synset and entry can be followed to its label and split.</summary>
public class TextTasksSmallSourcesTests
{
    private SmallTextSources _small = null!;

    [OneTimeSetUp] public void Write() => _small = new SmallTextSources();
    [OneTimeTearDown] public void Delete() => _small.Dispose();

    private static bool IsTest(string key) => StableHash.IsTest(key);

    private static IReadOnlyList<TextExample> SplitOf(TextTaskData task, string key) => IsTest(key) ? task.Test : task.Train;

    [Test]
    public void NounSenseLabelsEachDefinitionWithItsLexFile()
    {
        var task = TextTasks.Build("wn-noun-sense", _small.Sources);
        Assert.That(task.ClassCount, Is.EqualTo(26));
        Assert.That(task.Train.Count + task.Test.Count, Is.EqualTo(6));
        var expected = new (string Key, string Definition, string Class)[]
        {
            ("wn:n:00001000", "that which exists", "noun.Tops"),
            ("wn:n:00001100", "a carnivorous mammal", "noun.animal"),
            ("wn:n:00001300", "a dull unattractive unpleasant girl or woman", "noun.person"),
            ("wn:n:00001500", "a smooth-textured sausage", "noun.artifact"),
        };
        foreach (var (key, definition, className) in expected)
            Assert.That(SplitOf(task, key), Does.Contain(new TextExample(definition, null, task.ClassNames.ToList().IndexOf(className))), key);
    }

    [Test]
    public void VerbSenseAndPosUseEverySynsetOfTheirFiles()
    {
        var verbs = TextTasks.Build("wn-verb-sense", _small.Sources);
        Assert.That(verbs.ClassCount, Is.EqualTo(15));
        Assert.That(SplitOf(verbs, "wn:v:00002200"), Does.Contain(new TextExample("move fast by using one's feet", null, 9)));   // verb.motion

        var pos = TextTasks.Build("wn-pos", _small.Sources);
        Assert.That(pos.ClassNames, Is.EqualTo(new[] { "noun", "verb", "adjective", "adverb" }));
        Assert.That(pos.Train.Count + pos.Test.Count, Is.EqualTo(13));
        Assert.That(SplitOf(pos, "wn:a:00003100"), Does.Contain(new TextExample("inaccessible and sparsely populated", null, 2)));   // a satellite
        Assert.That(SplitOf(pos, "wn:r:00004000"), Does.Contain(new TextExample("quickly or rapidly", null, 3)));
    }

    [Test]
    public void HypernymPairsAreTheHandListedOnesOfEachSplitAndBalanced()
    {
        var task = TextTasks.Build("wn-hypernym", _small.Sources);
        // Direct hypernyms written in the files: canine @ entity, dog @ canine, dog @i entity,
        // dog (girl) @ entity, melt @ change.
        var hypernymPairs = new (string A, string B)[]
        {
            ("wn:n:00001100", "wn:n:00001000"), ("wn:n:00001200", "wn:n:00001100"), ("wn:n:00001200", "wn:n:00001000"),
            ("wn:n:00001300", "wn:n:00001000"), ("wn:v:00002000", "wn:v:00002100"),
        };
        var wordNet = WordNet.Load(_small.Sources.WordNetDir);
        string Definition(string key) => wordNet.Synsets.Single(s => s.Key == key).Definition;
        var expectedPositives = hypernymPairs.Where(p => IsTest(p.A) == IsTest(p.B))
            .Select(p => (IsTest(p.A), new TextExample(Definition(p.A), Definition(p.B), 1))).ToList();
        var positives = task.Train.Select(e => (false, e)).Concat(task.Test.Select(e => (true, e))).Where(x => x.e.Label == 1);
        // FNV-1a mod 5 of the keys (worked out in Python): nouns 1000, 1100, 1200, 1300 train, 1400 and
        // 1500 test; verbs 2000 and 2100 test. Train has four positives but only three negatives: dog's
        // second one finds no train noun left that is not dog, canine, entity or its first negative.
        // Test has melt -> change and no verb to be its negative. Balance keeps three of each in train.
        Assert.That(positives, Is.SubsetOf(expectedPositives));
        Assert.That(task.Train.Count(e => e.Label == 1), Is.EqualTo(3));
        Assert.That(task.Test, Is.Empty);
        foreach (var split in new[] { task.Train, task.Test })
            Assert.That(split.Count(e => e.Label == 0), Is.EqualTo(split.Count(e => e.Label == 1)));
        // A negative is never one of A's hypernyms.
        foreach (var negative in task.Train.Concat(task.Test).Where(e => e.Label == 0))
            Assert.That(hypernymPairs.Any(p => Definition(p.A) == negative.A && Definition(p.B) == negative.B), Is.False);
    }

    [Test]
    public void ExamplePairsUseAnotherSenseOfTheSameWord()
    {
        var task = TextTasks.Build("wn-example", _small.Sources);
        var wordNet = WordNet.Load(_small.Sources.WordNetDir);
        var all = task.Train.Concat(task.Test).ToList();
        Assert.That(all.Count(e => e.Label == 0), Is.EqualTo(all.Count(e => e.Label == 1)));
        foreach (var e in all)
        {
            var owner = wordNet.Synsets.Single(s => s.Examples.Contains(e.A));
            Assert.That(owner.Words[0], Is.EqualTo("dog").Or.EqualTo("melt").Or.EqualTo("run"), "only dog, melt and run have two senses");
            var glossOwner = wordNet.Synsets.Single(s => s.Definition == e.B);
            Assert.That(glossOwner == owner, Is.EqualTo(e.Label == 1));
            Assert.That(glossOwner.FilePos, Is.EqualTo(owner.FilePos));
            Assert.That(IsTest(glossOwner.Key), Is.EqualTo(IsTest(owner.Key)));
        }
    }

    [Test]
    public void FortuneLanguageHasTheLanguagesPresentInCatalogueOrder()
    {
        var task = TextTasks.Build("fortune-lang", _small.Sources);
        Assert.That(task.ClassNames, Is.EqualTo(new[] { "English", "German", "Portuguese", "Czech" }));
        Assert.That(SplitOf(task, "fortune:de/witze:0"), Does.Contain(new TextExample("Grüße aus Köln", null, 1)));
        Assert.That(SplitOf(task, "fortune:brasil:1"),
            Does.Contain(new TextExample("Água mole em pedra dura tanto bate até que fura.", null, 2)));
        Assert.That(SplitOf(task, "fortune:cookie:1"), Does.Contain(new TextExample("A *big* day.", null, 0)));
        Assert.That(task.Train.Count + task.Test.Count, Is.EqualTo(7));
    }

    [Test]
    public void FortuneTopicNeedsThreeHundredEntriesPerFile()
    {
        using var small = new SmallTextSources();
        string dir = small.Sources.FortunesDir;
        File.WriteAllText(Path.Combine(dir, "science"), string.Join("\n%\n", Enumerable.Range(0, 300).Select(i => $"Science fact {i}.")));
        File.WriteAllText(Path.Combine(dir, "work"), string.Join("\n%\n", Enumerable.Range(0, 299).Select(i => $"Work fact {i}.")));
        var task = TextTasks.Build("fortune-topic", small.Sources);
        Assert.That(task.ClassNames, Is.EqualTo(new[] { "science" }));
        Assert.That(task.Train.Count + task.Test.Count, Is.EqualTo(300));
        Assert.That(SplitOf(task, "fortune:science:7"), Does.Contain(new TextExample("Science fact 7.", null, 0)));
    }
}
