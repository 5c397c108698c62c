using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Optim;

/// <summary>
/// SGD with momentum, PyTorch semantics (torch.optim.SGD, dampening 0, no Nesterov):
/// g' = g + wd * p (L2 weight decay, only if wd != 0); v = mu * v + g'; p = p - lr * v.
/// With v starting at zero the first step gives v = g', exactly PyTorch's "buf = clone(g)".
/// The vector loop is written once, generic over the width (<see cref="IFloatLanes{TV}"/>); every width evaluates
/// the same IEEE operations in the same order, so a result never depends on which path (vector or scalar tail)
/// handled an element. No allocation.
/// </summary>
public static class SgdMomentum
{
    /// <summary>One step over one parameter: updates <paramref name="param"/> and <paramref name="velocity"/> in place.</summary>
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> velocity,
        float learningRate, float momentum, float weightDecay = 0f) => Step(param, grad, velocity, learningRate, momentum, weightDecay, VectorWidths.All);

    /// <summary><see cref="Step(Span{float}, ReadOnlySpan{float}, Span{float}, float, float, float)"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static unsafe void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> velocity,
        float learningRate, float momentum, float weightDecay, VectorWidths widths)
    {
        int n = param.Length;
        if (grad.Length != n || velocity.Length != n)
            throw new ArgumentException($"param ({n}), grad ({grad.Length}) and velocity ({velocity.Length}) must have the same length.");
        float lr = learningRate, mu = momentum, wd = weightDecay;
        fixed (float* p = param, g = grad, v = velocity)
        {
            int i = 0;
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Step<Vector512<float>, FloatLanes512>(p, g, v, lr, mu, wd, i, n);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Step<Vector256<float>, FloatLanes256>(p, g, v, lr, mu, wd, i, n);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Step<Vector128<float>, FloatLanes128>(p, g, v, lr, mu, wd, i, n);
            for (; i < n; i++)
            {
                float pi = p[i];
                float gi = g[i];
                if (wd != 0f) gi += wd * pi;
                float vi = mu * v[i] + gi;
                v[i] = vi;
                p[i] = pi - lr * vi;
            }
        }
    }

    /// <summary>The vector loop of <see cref="Step(Span{float}, ReadOnlySpan{float}, Span{float}, float, float, float)"/> from element <paramref name="i"/>; returns where it stopped.</summary>
    private static unsafe int Step<TV, TL>(float* p, float* g, float* v, float lr, float mu, float wd, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        TV vlr = TL.Create(lr), vmu = TL.Create(mu), vwd = TL.Create(wd);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var pi = TL.Load(p + i);
            var gi = TL.Load(g + i);
            if (wd != 0f) gi = TL.Add(gi, TL.Multiply(vwd, pi));
            var vi = TL.Add(TL.Multiply(vmu, TL.Load(v + i)), gi);
            TL.Store(vi, v + i);
            TL.Store(TL.Subtract(pi, TL.Multiply(vlr, vi)), p + i);
        }
        return i;
    }
}
