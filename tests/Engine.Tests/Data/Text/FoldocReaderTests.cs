using Amalgam.Engine.Data.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>
/// The FOLDOC reader on the real dict-foldoc files and on a hand-written dictionary. Real entries
/// were read by hand with zcat foldoc.dict.dz | grep -n -A12 '^\$1$' (and '^!!!Batch$', '^ABC$').
/// </summary>
public class FoldocReaderTests
{
    private static readonly Lazy<List<FoldocEntry>> Real = new(() => FoldocReader.Read("/usr/share/dictd/foldoc.dict.dz"));

    [Test]
    public void DollarOneIsProgrammingWithTagAndDateRemoved()
    {
        var entry = Real.Value.Single(e => e.Headword == "$1");
        Assert.That(entry.Domains, Is.EqualTo(new[] { "programming" }));
        Assert.That(entry.Text, Does.StartWith("The first positional parameter in shell\n   programming and related languages."));
        Assert.That(entry.Text, Does.EndWith("e.g. in a wiki interwiki map."));
        Assert.That(entry.Text, Does.Not.Contain("<programming>").And.Not.Contain("(2006-09-10)").And.Not.Contain("{"));
    }

    [Test]
    public void BatchHasTwoDomainsAndAbcTakesItsFirstSense()
    {
        var batch = Real.Value.Single(e => e.Headword == "!!!Batch");
        Assert.That(batch.Domains, Is.EqualTo(new[] { "language", "humour" }));
        Assert.That(batch.Domain, Is.EqualTo("language"));
        var abc = Real.Value.Single(e => e.Headword == "ABC");
        Assert.That(abc.Domain, Is.EqualTo("computer"));
        Assert.That(abc.Text, Does.StartWith("1. Atanasoff-Berry Computer.\n\n   2. An imperative language and programming"));
    }

    [Test]
    public void EntriesAreTheDistinctIndexSpans()
    {
        // cut -f2,3 foldoc.index | sort -u | wc -l
        Assert.That(Real.Value, Has.Count.EqualTo(12021));
    }

    [Test]
    public void HandWrittenDictionaryGivesItsFourEntries()
    {
        using var small = new SmallTextSources();
        var entries = FoldocReader.Read(small.Sources.FoldocDict);
        Assert.That(entries.Select(e => e.Headword), Is.EqualTo(new[] { "$1", "!!!Batch", "ABC", "nodomain" }));
        Assert.That(entries.Select(e => e.Domain), Is.EqualTo(new[] { "programming", "language", "computer", null }));
        Assert.That(entries[0].Text, Is.EqualTo("The first positional parameter in\n   shell programming."));
        Assert.That(entries[1].Text, Is.EqualTo("A daft way of encoding\n   text, by Doug Jones <jones@cs.uiowa.edu>."));
        Assert.That(entries[2].Text, Is.EqualTo("1. Atanasoff-Berry Computer.\n\n   2. An imperative language."));
        Assert.That(entries[3].Domains, Is.Empty);
    }

    [Test]
    public void IndexPathLiesBesideTheDictionary()
    {
        Assert.That(FoldocReader.IndexPathOf("/x/foldoc.dict.dz"), Is.EqualTo("/x/foldoc.index"));
        Assert.That(FoldocReader.IndexPathOf("/x/foldoc.dict"), Is.EqualTo("/x/foldoc.index"));
    }

    [Test]
    public void BadIndexOrMissingFilesNameThem()
    {
        using var small = new SmallTextSources();
        string index = FoldocReader.IndexPathOf(small.Sources.FoldocDict);
        File.WriteAllText(index, "$1\tA\tZZZZ\n");
        var e = Assert.Throws<BadInputException>(() => FoldocReader.Read(small.Sources.FoldocDict))!;
        Assert.That(e.Message, Does.StartWith(index + " line 1:").And.Contain("past the end"));
        File.WriteAllText(index, "$1\tA!\tBj\n");
        e = Assert.Throws<BadInputException>(() => FoldocReader.Read(small.Sources.FoldocDict))!;
        Assert.That(e.Message, Does.Contain("bad base64 digit '!'"));
        File.Delete(index);
        e = Assert.Throws<BadInputException>(() => FoldocReader.Read(small.Sources.FoldocDict))!;
        Assert.That(e.Message, Does.Contain(index));
        e = Assert.Throws<BadInputException>(() => FoldocReader.Read("/no/such/foldoc.dict.dz"))!;
        Assert.That(e.Message, Does.Contain("/no/such/foldoc.dict.dz"));
    }
}
