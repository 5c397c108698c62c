using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.AdaMerging;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Analysis;

/// <summary>
/// The sums `amalgam analyze` needs from a tile of two task vectors: dot products in float64 (the
/// fixed-order kernel of <see cref="GradientSums.Dot"/>, so the same bits at any thread count) and
/// sign conflicts: entries where both are non-zero and their signs differ (TIES' notion of
/// interference, Yadav et al. 2023), counted exactly.
/// </summary>
public static unsafe class TaskVectorStatistics
{
    /// <summary>sum_i a[i] * b[i] in float64.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ ({a.Length} vs {b.Length})", nameof(b));
        fixed (float* pa = a)
        fixed (float* pb = b)
            return GradientSums.Dot(pa, pb, a.Length);
    }

    /// <summary>(entries with a[i] * b[i] &lt; 0 by sign, entries with a[i] != 0 and b[i] != 0); +-0 counts as zero, NaN as neither.</summary>
    public static (long Conflicts, long BothNonZero) SignConflicts(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => SignConflicts(a, b, VectorWidths.All);

    /// <summary><see cref="SignConflicts(ReadOnlySpan{float}, ReadOnlySpan{float})"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static (long Conflicts, long BothNonZero) SignConflicts(ReadOnlySpan<float> a, ReadOnlySpan<float> b, VectorWidths widths)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ ({a.Length} vs {b.Length})", nameof(b));
        int n = a.Length, i = 0;
        long conflicts = 0, both = 0;
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Count<Vector512<float>, FloatLanes512>(ref ra, ref rb, i, n, ref conflicts, ref both);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Count<Vector256<float>, FloatLanes256>(ref ra, ref rb, i, n, ref conflicts, ref both);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Count<Vector128<float>, FloatLanes128>(ref ra, ref rb, i, n, ref conflicts, ref both);
        for (; i < n; i++)
        {
            float x = a[i], y = b[i];
            bool nonZero = x != 0 && y != 0 && !float.IsNaN(x) && !float.IsNaN(y);
            if (nonZero) both++;
            if (nonZero && (x < 0) != (y < 0)) conflicts++;
        }
        return (conflicts, both);
    }

    private static int Count<TV, TL>(ref float a, ref float b, int i, int n, ref long conflicts, ref long both) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        for (; i <= n - TL.Count; i += TL.Count)
        {
            TV x = TL.LoadUnsafe(ref a, (nuint)i), y = TL.LoadUnsafe(ref b, (nuint)i);
            // x < 0 or x > 0 (false for +-0 and NaN), likewise y; a conflict is one negative and one positive.
            TV xNeg = TL.LessThan(x, TL.Zero), xPos = TL.GreaterThan(x, TL.Zero);
            TV yNeg = TL.LessThan(y, TL.Zero), yPos = TL.GreaterThan(y, TL.Zero);
            TV nonZero = TL.And(TL.Or(xNeg, xPos), TL.Or(yNeg, yPos));
            TV conflict = TL.Or(TL.And(xNeg, yPos), TL.And(xPos, yNeg));
            both += BitOperations.PopCount(TL.ExtractMostSignificantBits(nonZero));
            conflicts += BitOperations.PopCount(TL.ExtractMostSignificantBits(conflict));
        }
        return i;
    }
}
