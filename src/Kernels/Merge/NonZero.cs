using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

/// <summary>Counting kept entries (the reports' kept fractions).</summary>
public static class NonZero
{
    /// <summary>Entries that are not +-0 (for kept fractions in reports); vectorised, it runs in every merge pass.</summary>
    public static long Count(ReadOnlySpan<float> x)
    {
        long zeros = 0;
        int i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - 8; i += 8)
                zeros += BitOperations.PopCount(Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)i), Vector256<float>.Zero).ExtractMostSignificantBits());
        for (; i < x.Length; i++) if (x[i] == 0f) zeros++;
        return x.Length - zeros;
    }
}
