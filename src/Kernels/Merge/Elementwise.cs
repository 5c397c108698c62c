using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// Runs one element-wise formula <see cref="IElementwiseOp"/> over tiles: its vector form, generic over the width
/// (<see cref="IFloatLanes{TV}"/>), at 512, 256 then 128 bits where the hardware accelerates them, then its scalar
/// form on the tail. Every width evaluates the same IEEE operations in the same order (no fused multiply-add,
/// which .NET never introduces on its own), so an element's result does not depend on which path handled it,
/// i.e. on tile boundaries.
/// </summary>
internal static class Elementwise
{
    /// <summary>dest[i] = TOp(dest[i], a[i], b[i], w) for all i; dest may alias a or b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp>(Span<float> dest, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float w) where TOp : IElementwiseOp =>
        Run<TOp>(dest, a, b, w, VectorWidths.All);

    /// <summary><see cref="Run{TOp}(Span{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, float)"/> with only the given widths (tests: one, or none).</summary>
    /// <remarks>Inlined with its loops, as the per-width copies were: callers run it on 1024-element blocks, where a call per width costs.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Run<TOp>(Span<float> dest, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float w, VectorWidths widths) where TOp : IElementwiseOp
    {
        int n = dest.Length;
        if (a.Length != n || b.Length != n) throw new ArgumentException("All tiles of one kernel call must have the same length.");
        ref float d = ref MemoryMarshal.GetReference(dest);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Run<TOp, Vector512<float>, FloatLanes512>(ref d, ref ra, ref rb, w, i, n);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Run<TOp, Vector256<float>, FloatLanes256>(ref d, ref ra, ref rb, w, i, n);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Run<TOp, Vector128<float>, FloatLanes128>(ref d, ref ra, ref rb, w, i, n);
        for (; i < n; i++) Unsafe.Add(ref d, i) = TOp.Apply(Unsafe.Add(ref d, i), Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i), w);
    }

    /// <summary>The vector loop from element <paramref name="i"/>; returns where it stopped.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Run<TOp, TV, TL>(ref float d, ref float a, ref float b, float w, int i, int n) where TOp : IElementwiseOp where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var vw = TL.Create(w);
        for (; i <= n - TL.Count; i += TL.Count)
            TL.StoreUnsafe(TOp.Apply<TV, TL>(TL.LoadUnsafe(ref d, (nuint)i), TL.LoadUnsafe(ref a, (nuint)i), TL.LoadUnsafe(ref b, (nuint)i), vw), ref d, (nuint)i);
        return i;
    }
}
