namespace Amalgam.Cli.Commands;

/// <summary>A plain aligned text table (no terminal codes, so it pipes and diffs cleanly).</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    /// <summary>Columns listed here are right-aligned (numbers).</summary>
    public HashSet<int> RightAligned { get; } = [];

    public void Add(params string[] cells) => _rows.Add(cells);

    public void WriteTo(TextWriter o)
    {
        int[] width = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
            for (int c = 0; c < width.Length; c++) width[c] = Math.Max(width[c], row[c].Length);
        void Line(string[] cells) => o.WriteLine(string.Join("  ", cells.Select((cell, c) =>
            RightAligned.Contains(c) ? cell.PadLeft(width[c]) : cell.PadRight(width[c]))).TrimEnd());
        Line(headers);
        foreach (var row in _rows) Line(row);
    }
}
