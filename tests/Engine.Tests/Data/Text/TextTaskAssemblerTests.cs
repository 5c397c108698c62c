using Amalgam.Engine.Data.Text;

namespace Amalgam.Engine.Tests.Data.Text;

/// <summary>The rules every text task shares: hash, normalisation, dedup, no text in both splits, caps.</summary>
public class TextTaskAssemblerTests
{
    [Test]
    public void Fnv1a64MatchesThePublishedVectors()
    {
        // The FNV test vectors of the reference implementation (Fowler/Noll/Vo, fnv-1a 64).
        Assert.That(StableHash.Fnv1a64(""), Is.EqualTo(0xcbf29ce484222325UL));
        Assert.That(StableHash.Fnv1a64("a"), Is.EqualTo(0xaf63dc4c8601ec8cUL));
        Assert.That(StableHash.Fnv1a64("foobar"), Is.EqualTo(0x85944171f73967e8UL));
    }

    [Test]
    public void NormaliseCollapsesWhitespaceAndTruncatesTo400()
    {
        Assert.That(TextTaskAssembler.Normalize("  a\tb\n\n  c  "), Is.EqualTo("a b c"));
        Assert.That(TextTaskAssembler.Normalize(" \n\t "), Is.Empty);
        Assert.That(TextTaskAssembler.Normalize(new string('x', 1000)), Has.Length.EqualTo(400));
        // A surrogate pair straddling the limit is dropped whole, not cut in half.
        string text = new string('x', 399) + "😀" + "tail";
        Assert.That(TextTaskAssembler.Normalize(text), Is.EqualTo(new string('x', 399)));
    }

    [Test]
    public void DuplicatesAndEmptyTextsGoAndTestTextsNeverReachTrain()
    {
        var candidates = new[]
        {
            // Identical after normalising; k2 comes first in hash order (FNV-1a 0x08be0c07b5621fa8 < 0x08be0f07b56224c1).
            new TextCandidate("k1", "same  text", null, 0, IsTest: false),
            new TextCandidate("k2", "same text", null, 1, IsTest: true),
            new TextCandidate("k3", "   ", null, 0, IsTest: false),
            new TextCandidate("k4", "other", null, 1, IsTest: false),
        };
        var task = TextTaskAssembler.Assemble("t", ["a", "b"], false, candidates);
        var all = task.Train.Concat(task.Test).ToList();
        Assert.That(all.Select(e => e.A), Is.EquivalentTo(new[] { "same text", "other" }));
        Assert.That(task.Train.Select(e => e.A), Is.EqualTo(new[] { "other" }));
        Assert.That(task.Test.Single(), Is.EqualTo(new TextExample("same text", null, 1)));
    }

    [Test]
    public void PairTextSeenInTestIsKeptOutOfTrain()
    {
        var candidates = new[]
        {
            new TextCandidate("p1", "x", "shared gloss", 1, IsTest: true),
            new TextCandidate("p2", "y", "shared gloss", 1, IsTest: false),
            new TextCandidate("p3", "shared gloss", "z", 0, IsTest: false),
            new TextCandidate("p4", "u", "v", 0, IsTest: false),
        };
        var task = TextTaskAssembler.Assemble("t", ["0", "1"], true, candidates);
        Assert.That(task.Train.Select(e => e.A), Is.EqualTo(new[] { "u" }));
        Assert.That(task.Test.Single(), Is.EqualTo(new TextExample("x", "shared gloss", 1)));
    }

    [Test]
    public void CapTakesClassesInTurnSoSmallClassesKeepWhatTheyHave()
    {
        var candidates = Enumerable.Range(0, 10_000)
            .Select(i => new TextCandidate($"k{i}", $"text {i}", null, i < 30 ? 2 : i % 2, IsTest: false))
            .ToList();
        var task = TextTaskAssembler.Assemble("t", ["a", "b", "c"], false, candidates);
        Assert.That(task.Train, Has.Count.EqualTo(TextTaskAssembler.TrainCap));
        Assert.That(task.Train.Count(e => e.Label == 2), Is.EqualTo(30));
        Assert.That(Math.Abs(task.Train.Count(e => e.Label == 0) - task.Train.Count(e => e.Label == 1)), Is.LessThanOrEqualTo(1));
        Assert.That(task.Test, Is.Empty);
        // Membership and order depend on the keys only, not on the order the candidates come in.
        var reversed = TextTaskAssembler.Assemble("t", ["a", "b", "c"], false, Enumerable.Reverse(candidates));
        Assert.That(reversed.Train, Is.EqualTo(task.Train));
    }

    [Test]
    public void BalanceTrimsTheLargerClass()
    {
        var candidates = Enumerable.Range(0, 50)
            .Select(i => new TextCandidate($"k{i}", $"a{i}", $"b{i}", i < 20 ? 1 : 0, IsTest: false));
        var task = TextTaskAssembler.Assemble("t", ["0", "1"], true, candidates, balance: true);
        Assert.That(task.Train.Count(e => e.Label == 0), Is.EqualTo(20));
        Assert.That(task.Train.Count(e => e.Label == 1), Is.EqualTo(20));
    }
}
