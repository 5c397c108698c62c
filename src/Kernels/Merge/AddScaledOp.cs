using System.Runtime.CompilerServices;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>d' = a + w * b: theta0 + lambda * merged.</summary>
internal readonly struct AddScaledOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a + w * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV> => TL.Add(a, TL.Multiply(w, b));
}
