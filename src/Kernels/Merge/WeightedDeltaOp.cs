using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = w * (a - b): the first task's weighted delta.</summary>
internal readonly struct WeightedDeltaOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => w * (a - b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.Multiply(w, TL.Subtract(a, b));
}
