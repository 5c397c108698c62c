using System.Text;

namespace Amalgam.Engine.Data.Text;

/// <summary>One item a task builder proposes: a stable key (what the split and order hash), its
/// text(s), its label and its split.</summary>
public sealed record TextCandidate(string Key, string A, string? B, int Label, bool IsTest);

/// <summary>Turns a builder's candidates into a task with the rules every text task shares (see
/// docs/text-tasks.md): normalised texts, hash order, deduplication, no text in both splits, caps.</summary>
public static class TextTaskAssembler
{
    public const int TrainCap = 4000, TestCap = 2000, MaxChars = 400;

    /// <summary>Assembles the task; <paramref name="balance"/> (the pair tasks) trims each split to
    /// equal class counts.</summary>
    public static TextTaskData Assemble(
        string name, IReadOnlyList<string> classNames, bool isPair, IEnumerable<TextCandidate> candidates, bool balance = false)
    {
        var ordered = candidates
            .Select(c => c with { A = Normalize(c.A), B = c.B is null ? null : Normalize(c.B) })
            .Where(c => c.A.Length > 0 && (!isPair || c.B is { Length: > 0 }))
            .Select(c => (Hash: StableHash.Fnv1a64(c.Key), Item: c))
            .OrderBy(c => c.Hash).ThenBy(c => c.Item.Key, StringComparer.Ordinal)
            .Select(c => c.Item)
            .DistinctBy(c => (c.A, c.B))   // keeps the first in hash order
            .ToList();

        var test = Cap(ordered.Where(c => c.IsTest), classNames.Count, TestCap, balance);
        var testTexts = test.SelectMany(c => c.B is null ? [c.A] : new[] { c.A, c.B }).ToHashSet(StringComparer.Ordinal);
        var train = Cap(ordered.Where(c => !c.IsTest && !testTexts.Contains(c.A) && (c.B is null || !testTexts.Contains(c.B))),
            classNames.Count, TrainCap, balance);
        return new TextTaskData(name, classNames, isPair, ToExamples(train), ToExamples(test));
    }

    /// <summary>Whitespace runs become one space, the ends are trimmed, and texts longer than
    /// <see cref="MaxChars"/> keep their first <see cref="MaxChars"/> characters (the tokenizer
    /// truncates later anyway; a surrogate pair is not cut in half).</summary>
    public static string Normalize(string text)
    {
        var sb = new StringBuilder(Math.Min(text.Length, MaxChars + 1));
        bool pendingSpace = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c)) { pendingSpace = sb.Length > 0; continue; }
            if (pendingSpace) { sb.Append(' '); pendingSpace = false; }
            sb.Append(c);
            if (sb.Length > MaxChars) break;
        }
        if (sb.Length <= MaxChars) return sb.ToString();
        int keep = char.IsHighSurrogate(sb[MaxChars - 1]) ? MaxChars - 1 : MaxChars;
        return sb.ToString(0, keep).TrimEnd();
    }

    // Takes at most `cap` items, class by class in turn (each class's items in hash order), so a
    // small class keeps all it has while large ones share the rest. The output keeps that turn order
    // (rank in class, then label), so every prefix is as balanced as the classes allow: in plain hash
    // order a large class's chosen items are its smallest hashes and would crowd the front (measured:
    // the second half of wn-pos's training list held no noun at all).
    private static List<TextCandidate> Cap(IEnumerable<TextCandidate> inHashOrder, int classCount, int cap, bool balance)
    {
        var items = inHashOrder.ToList();
        var rankInClass = new int[classCount];
        var ranked = items.Select((c, position) => (Rank: rankInClass[c.Label]++, c.Label, Position: position)).ToList();
        if (balance) cap = Math.Min(cap, classCount * rankInClass.Min());
        return ranked.OrderBy(r => r.Rank).ThenBy(r => r.Label).Take(cap).Select(r => items[r.Position]).ToList();
    }

    private static List<TextExample> ToExamples(List<TextCandidate> items) =>
        items.Select(c => new TextExample(c.A, c.B, c.Label)).ToList();
}
