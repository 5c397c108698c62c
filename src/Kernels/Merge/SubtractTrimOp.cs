using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = |a - b| &gt;= w ? a - b : 0 (task vector, then trim), an element-wise piece of <see cref="Ties"/>.</summary>
internal readonly struct SubtractTrimOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w)
    {
        float t = a - b;
        return MathF.Abs(t) >= w ? t : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var t = TL.Subtract(a, b);
        return TL.And(t, TL.GreaterThanOrEqual(TL.Abs(t), w));
    }
}
