using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// One element-wise formula d' = f(d, a, b, w) written once per width. Every width evaluates the
/// same IEEE operations in the same order (no fused multiply-add, which .NET never introduces on
/// its own), so an element's result does not depend on which path handled it, i.e. on tile
/// boundaries.
/// </summary>
internal interface IElementwiseOp
{
    static abstract float Apply(float d, float a, float b, float w);
    static abstract Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w);
    static abstract Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w);
    static abstract Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w);
}

internal static class Elementwise
{
    /// <summary>dest[i] = TOp(dest[i], a[i], b[i], w) for all i; dest may alias a or b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp>(Span<float> dest, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float w) where TOp : IElementwiseOp
    {
        int n = dest.Length;
        if (a.Length != n || b.Length != n) throw new ArgumentException("All tiles of one kernel call must have the same length.");
        ref float d = ref MemoryMarshal.GetReference(dest);
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vw = Vector512.Create(w);
            for (; i <= n - 16; i += 16)
                TOp.Apply(Vector512.LoadUnsafe(ref d, (nuint)i), Vector512.LoadUnsafe(ref ra, (nuint)i), Vector512.LoadUnsafe(ref rb, (nuint)i), vw).StoreUnsafe(ref d, (nuint)i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vw = Vector256.Create(w);
            for (; i <= n - 8; i += 8)
                TOp.Apply(Vector256.LoadUnsafe(ref d, (nuint)i), Vector256.LoadUnsafe(ref ra, (nuint)i), Vector256.LoadUnsafe(ref rb, (nuint)i), vw).StoreUnsafe(ref d, (nuint)i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var vw = Vector128.Create(w);
            for (; i <= n - 4; i += 4)
                TOp.Apply(Vector128.LoadUnsafe(ref d, (nuint)i), Vector128.LoadUnsafe(ref ra, (nuint)i), Vector128.LoadUnsafe(ref rb, (nuint)i), vw).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = TOp.Apply(Unsafe.Add(ref d, i), Unsafe.Add(ref ra, i), Unsafe.Add(ref rb, i), w);
    }
}

/// <summary>d' = a - b.</summary>
internal readonly struct SubtractOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a - b;
    public static Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w) => a - b;
    public static Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w) => a - b;
    public static Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w) => a - b;
}

/// <summary>d' = w * (a - b): the first task's weighted delta.</summary>
internal readonly struct WeightedDeltaOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => w * (a - b);
    public static Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w) => w * (a - b);
    public static Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w) => w * (a - b);
    public static Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w) => w * (a - b);
}

/// <summary>d' = d + w * (a - b): the next task's weighted delta added to the running sum.</summary>
internal readonly struct AccumulateWeightedDeltaOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => d + w * (a - b);
    public static Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w) => d + w * (a - b);
    public static Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w) => d + w * (a - b);
    public static Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w) => d + w * (a - b);
}

/// <summary>d' = a + w * b: theta0 + lambda * merged.</summary>
internal readonly struct AddScaledOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a + w * b;
    public static Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w) => a + w * b;
    public static Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w) => a + w * b;
    public static Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w) => a + w * b;
}

/// <summary>d' = w * a: the first task's weighted task vector.</summary>
internal readonly struct ScaleOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => w * a;
    public static Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w) => w * a;
    public static Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w) => w * a;
    public static Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w) => w * a;
}

/// <summary>d' = d + w * a: the next task's weighted task vector added to the running sum.</summary>
internal readonly struct AccumulateScaledOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => d + w * a;
    public static Vector128<float> Apply(Vector128<float> d, Vector128<float> a, Vector128<float> b, Vector128<float> w) => d + w * a;
    public static Vector256<float> Apply(Vector256<float> d, Vector256<float> a, Vector256<float> b, Vector256<float> w) => d + w * a;
    public static Vector512<float> Apply(Vector512<float> d, Vector512<float> a, Vector512<float> b, Vector512<float> w) => d + w * a;
}
