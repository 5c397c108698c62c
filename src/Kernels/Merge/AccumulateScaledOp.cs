using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = d + w * a: the next task's weighted task vector added to the running sum.</summary>
internal readonly struct AccumulateScaledOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => d + w * a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.Add(d, TL.Multiply(w, a));
}
