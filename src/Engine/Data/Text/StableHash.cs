using System.Text;

namespace Amalgam.Engine.Data.Text;

/// <summary>FNV-1a 64 of a key's UTF-8 bytes. The text tasks split and order their items by it,
/// so membership depends only on each item's key, never on a seed or on file listing order.</summary>
public static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Fnv1a64(string key)
    {
        ulong hash = OffsetBasis;
        foreach (byte b in Encoding.UTF8.GetBytes(key))
        {
            hash ^= b;
            hash *= Prime;
        }
        return hash;
    }

    /// <summary>The split rule of every text task: test when the key's hash mod 5 is 0 (20 %).</summary>
    public static bool IsTest(string key) => Fnv1a64(key) % 5 == 0;
}
