namespace Amalgam.Engine.Methods.Cat;

/// <summary>The n largest entries' indices; ties go to the lower index (a stable order).</summary>
public static class TopIndices
{
    public static int[] Largest(ReadOnlySpan<double> values, int n)
    {
        n = Math.Clamp(n, 0, values.Length);
        var order = new int[values.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var copy = values.ToArray();
        // Descending by value, ascending by index among equals.
        Array.Sort(order, (a, b) => copy[a] != copy[b] ? copy[b].CompareTo(copy[a]) : a.CompareTo(b));
        return order[..n];
    }
}
