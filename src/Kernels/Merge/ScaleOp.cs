using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = w * a: the first task's weighted task vector.</summary>
internal readonly struct ScaleOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => w * a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.Multiply(w, a);
}
