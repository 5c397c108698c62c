using Amalgam.Engine.Data.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>
/// The WordNet reader on the real WordNet 3.0 files (wordnet-base) and on hand-written lines. The
/// real facts were read by hand with grep on /usr/share/wordnet/data.* (e.g. grep '^02084071 ' data.noun).
/// </summary>
public class WordNetReaderTests
{
    private static WordNet Real => WordNet.Load("/usr/share/wordnet");

    [Test]
    public void DogN01HasItsLexFileWordsHypernymsAndGlossSplit()
    {
        // 02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 @ 01317541 n 0000 ...
        var dog = Real.Find('n', 2084071)!;
        Assert.That(dog.Key, Is.EqualTo("wn:n:02084071"));
        Assert.That(WordNetLexNames.All[dog.LexFile], Is.EqualTo("noun.animal"));
        Assert.That(dog.SynsetType, Is.EqualTo('n'));
        Assert.That(dog.Words, Is.EqualTo(new[] { "dog", "domestic_dog", "Canis_familiaris" }));
        Assert.That(dog.Pointers, Has.Count.EqualTo(23));
        Assert.That(dog.Pointers.Where(p => p.IsHypernym).Select(p => p.TargetOffset), Is.EqualTo(new long[] { 2083346, 1317541 }));
        Assert.That(dog.Pointers[^1], Is.EqualTo(new WordNetPointer("%p", 2158846, 'n', 0, 0)));
        Assert.That(dog.Definition, Is.EqualTo("a member of the genus Canis (probably descended from the common wolf) " +
            "that has been domesticated by man since prehistoric times; occurs in many breeds"));
        Assert.That(dog.Examples, Is.EqualTo(new[] { "the dog barked all night" }));
        // 02083346 05 n 02 canine 0 canid 0 ...; 01317541 05 n 02 domestic_animal 0 domesticated_animal 0 ...
        Assert.That(Real.Find('n', 2083346)!.Words, Is.EqualTo(new[] { "canine", "canid" }));
        Assert.That(Real.Find('n', 1317541)!.Words, Is.EqualTo(new[] { "domestic_animal", "domesticated_animal" }));
    }

    [Test]
    public void BlunderHasElevenWordsFromItsHexCount()
    {
        // 00074790 04 n 0b blunder 0 blooper 0 ... boo-boo 0 019 @ 00070965 n 0000 ... + 02527651 v 040d ...
        var blunder = Real.Find('n', 74790)!;
        Assert.That(blunder.Words, Has.Count.EqualTo(11));
        Assert.That(blunder.Words[0], Is.EqualTo("blunder"));
        Assert.That(blunder.Words[^1], Is.EqualTo("boo-boo"));
        Assert.That(WordNetLexNames.All[blunder.LexFile], Is.EqualTo("noun.act"));
        Assert.That(blunder.Pointers, Has.Count.EqualTo(19));
        Assert.That(blunder.Pointers[0], Is.EqualTo(new WordNetPointer("@", 70965, 'n', 0, 0)));
        Assert.That(blunder.Pointers.Any(p => p is { TargetOffset: 2527651, SourceWord: 4, TargetWord: 13 }));
    }

    [Test]
    public void MeltVerbSkipsItsFramesAndKeepsThreeExamples()
    {
        // 00444629 30 v 03 melt 1 run 0 melt_down 0 007 @ 00447309 v 0000 ... 03 + 01 00 + 08 00 + 11 00 | reduce ...
        var melt = Real.Find('v', 444629)!;
        Assert.That(WordNetLexNames.All[melt.LexFile], Is.EqualTo("verb.change"));
        Assert.That(melt.Words, Is.EqualTo(new[] { "melt", "run", "melt_down" }));
        Assert.That(melt.Pointers, Has.Count.EqualTo(7));
        Assert.That(melt.Pointers[0], Is.EqualTo(new WordNetPointer("@", 447309, 'v', 0, 0)));
        Assert.That(melt.Definition, Is.EqualTo("reduce or cause to be reduced from a solid to a liquid state, usually by heating"));
        Assert.That(melt.Examples, Is.EqualTo(new[] { "melt butter", "melt down gold", "The wax melted in the sun" }));
    }

    [Test]
    public void SatelliteLosesItsMarkerAndInstanceHypernymIsAHypernym()
    {
        // 00020103 00 s 02 outback(a) 0 remote 0 003 & 00019874 a 0000 ... | inaccessible and sparsely populated;
        var outback = Real.Find('a', 20103)!;
        Assert.That(outback.SynsetType, Is.EqualTo('s'));
        Assert.That(outback.Words, Is.EqualTo(new[] { "outback", "remote" }));
        Assert.That(outback.Definition, Is.EqualTo("inaccessible and sparsely populated"));
        Assert.That(outback.Examples, Is.Empty);
        // 00060548 04 n 02 Hegira 1 Hejira 1 001 @i 00058743 n 0000 | the flight of Muhammad ...
        var hegira = Real.Find('n', 60548)!;
        Assert.That(hegira.Pointers.Single(), Is.EqualTo(new WordNetPointer("@i", 58743, 'n', 0, 0)));
        Assert.That(hegira.Pointers.Single().IsHypernym);
    }

    [Test]
    public void AttributionAfterAnExampleIsDropped()
    {
        // 00022437 00 s 01 dead-on(a) 0 ... | accurate and to the point; "a dead-on feel for characterization";
        //   "She avoids big scenes...preferring to rely on small gestures and dead-on dialogue"- Peter S.Prescott
        var deadOn = Real.Find('a', 22437)!;
        Assert.That(deadOn.Words, Is.EqualTo(new[] { "dead-on" }));
        Assert.That(deadOn.Definition, Is.EqualTo("accurate and to the point"));
        Assert.That(deadOn.Examples, Is.EqualTo(new[]
        {
            "a dead-on feel for characterization",
            "She avoids big scenes...preferring to rely on small gestures and dead-on dialogue",
        }));
    }

    [Test]
    public void RealFilesHoldEverySynset()
    {
        // grep -c '^[0-9]' data.noun / data.verb / data.adj / data.adv
        Assert.That(Real.Synsets.Count(s => s.FilePos == 'n'), Is.EqualTo(82115));
        Assert.That(Real.Synsets.Count(s => s.FilePos == 'v'), Is.EqualTo(13767));
        Assert.That(Real.Synsets.Count(s => s.FilePos == 'a'), Is.EqualTo(18156));
        Assert.That(Real.Synsets.Count(s => s.FilePos == 'r'), Is.EqualTo(3621));
        Assert.That(Real.SensesOf('n', "Dog").Select(s => s.Offset), Does.Contain(2084071L));
    }

    [Test]
    public void HandWrittenFilesParseTheirTrickyCases()
    {
        using var small = new SmallTextSources();
        var wordNet = WordNet.Load(small.Sources.WordNetDir);
        Assert.That(wordNet.Synsets, Has.Count.EqualTo(6 + 3 + 3 + 1));

        var dog = wordNet.Find('n', 1200)!;
        Assert.That(dog.Words, Has.Count.EqualTo(12));   // w_cnt 0c
        Assert.That(dog.Words[1], Is.EqualTo("domestic_dog"));
        Assert.That(dog.Pointers[1], Is.EqualTo(new WordNetPointer("@i", 1000, 'n', 4, 13)));
        Assert.That(dog.Definition, Is.EqualTo("a member of the genus Canis; occurs in many breeds"));
        Assert.That(dog.Examples, Is.EqualTo(new[] { "the dog barked all night", "dogs bark" }));
        Assert.That(wordNet.SensesOf('n', "DOG").Select(s => s.Offset), Is.EqualTo(new long[] { 1200, 1300, 1400, 1500 }));
        Assert.That(wordNet.SensesOf('n', "domestic dog").Single(), Is.SameAs(dog));

        var melt = wordNet.Find('v', 2000)!;
        Assert.That(melt.Pointers.Select(p => p.TargetPos), Is.EqualTo(new[] { 'v', 'n' }));
        Assert.That(melt.Examples, Is.EqualTo(new[] { "melt butter", "The wax melted in the sun" }));

        var outback = wordNet.Find('a', 3100)!;
        Assert.That((outback.SynsetType, outback.Words[0], outback.Words[1]), Is.EqualTo(('s', "outback", "back")));
        Assert.That(outback.Definition, Is.EqualTo("inaccessible and sparsely populated"));
        var melted = wordNet.Find('a', 3200)!;
        Assert.That(WordNetLexNames.All[melted.LexFile], Is.EqualTo("adj.ppl"));
        Assert.That(melted.Definition, Is.EqualTo("changed from a solid to a liquid state"));   // ': "' also starts the examples
        Assert.That(melted.Examples, Is.EqualTo(new[] { "rivers filled with melted snow" }));
        Assert.That(wordNet.Find('r', 4000)!.Examples, Is.EqualTo(new[] { "run fast!" }));
    }

    [Test]
    public void QuotesInsideADefinitionStayThere()
    {
        var (definition, examples) = WordNetReader.SplitGloss(
            " significant progress (especially in the phrase \"make strides\"); \"they made big strides in productivity\"  ");
        Assert.That(definition, Is.EqualTo("significant progress (especially in the phrase \"make strides\")"));
        Assert.That(examples, Is.EqualTo(new[] { "they made big strides in productivity" }));
    }

    [TestCase("00001000 03 n 0g entity 0 000 | x", "bad w_cnt '0g'")]
    [TestCase("00001000 03 n 01 entity 0 002 @ 00000001 n 0000 | x", "line ends before pointer_symbol")]
    [TestCase("00001000 03 q 01 entity 0 000 | x", "bad ss_type 'q'")]
    [TestCase("00001000 03 n 01 entity 0 000 extra | x", "unexpected 'extra'")]
    [TestCase("00001000 03 n 01 entity 0 000", "no '|'")]
    [TestCase("00001000 99 n 01 entity 0 000 | x", "lex_filenum 99 out of range")]
    public void BadLinesNameTheFileAndLine(string line, string problem)
    {
        using var small = new SmallTextSources();
        string path = Path.Combine(small.Sources.WordNetDir, "data.noun");
        File.WriteAllText(path, "  licence\n" + line + "\n");
        var e = Assert.Throws<BadInputException>(() => WordNetReader.ReadDataFile(path, 'n'))!;
        Assert.That(e.Message, Does.StartWith(path + " line 2:").And.Contain(problem));
    }

    [Test]
    public void MissingFolderNamesThePath()
    {
        var e = Assert.Throws<BadInputException>(() => WordNet.Load("/no/such/wordnet"))!;
        Assert.That(e.Message, Does.Contain("/no/such/wordnet"));
        var task = Assert.Throws<BadInputException>(() => TextTasks.Build("wn-pos", new TextSources(WordNetDir: "/no/such/wordnet")))!;
        Assert.That(task.Message, Does.Contain("/no/such/wordnet"));
    }

    [Test]
    public void MissingDataFileNamesIt()
    {
        using var small = new SmallTextSources();
        File.Delete(Path.Combine(small.Sources.WordNetDir, "data.adv"));
        var e = Assert.Throws<BadInputException>(() => WordNet.Load(small.Sources.WordNetDir))!;
        Assert.That(e.Message, Does.Contain(Path.Combine(small.Sources.WordNetDir, "data.adv")));
    }
}
