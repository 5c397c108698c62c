using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = d + w * (a - b): the next task's weighted delta added to the running sum.</summary>
internal readonly struct AccumulateWeightedDeltaOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => d + w * (a - b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.Add(d, TL.Multiply(w, TL.Subtract(a, b)));
}
