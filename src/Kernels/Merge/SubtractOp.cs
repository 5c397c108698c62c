using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = a - b.</summary>
internal readonly struct SubtractOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.Subtract(a, b);
}
