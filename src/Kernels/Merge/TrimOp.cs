using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = |a| &gt;= w ? a : 0 (trim below threshold w), an element-wise piece of <see cref="Ties"/>.</summary>
internal readonly struct TrimOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => MathF.Abs(a) >= w ? a : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.And(a, TL.GreaterThanOrEqual(TL.Abs(a), w));
}
