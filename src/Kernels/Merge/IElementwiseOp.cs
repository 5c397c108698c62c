using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// One element-wise formula d' = f(d, a, b, w), written twice: on floats (the scalar tail) and once on vectors of
/// any width (<see cref="IFloatLanes{TV}"/>), with the same IEEE operations in the same order. Run by <see cref="Elementwise"/>.
/// </summary>
internal interface IElementwiseOp
{
    static abstract float Apply(float d, float a, float b, float w);

    static abstract TV Apply<TV, TL>(TV d, TV a, TV b, TV w) where TV : unmanaged where TL : IFloatLanes<TV>;
}
