using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Optim;

/// <summary>
/// Adam (Kingma and Ba 2015) with PyTorch semantics (torch.optim.Adam / AdamW, single-tensor path):
/// <code>
///   p = p * (1 - lr * wd)                  (decoupled decay, AdamW)   or   g = g + wd * p   (L2)
///   m = m + (1 - b1) * (g - m)             (= b1 m + (1 - b1) g, written as torch's lerp)
///   v = b2 * v + (1 - b2) * g * g
///   p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// </code>
/// eps is added after the square root of the bias-corrected second moment, as in PyTorch. The
/// per-step scalars are computed in float64 and rounded once, as PyTorch's Python-side scalars
/// are. Every width evaluates the same IEEE operations in the same order (no FMA), so results are
/// bit-identical whichever path handles an element. No allocation.
/// </summary>
public static class Adam
{
    /// <summary>
    /// Step number <paramref name="step"/> (1-based: the first update is step 1) over one
    /// parameter; <paramref name="firstMoment"/> and <paramref name="secondMoment"/> start at zero.
    /// </summary>
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> firstMoment, Span<float> secondMoment,
        in AdamSettings settings, long step)
    {
        int n = param.Length;
        if (grad.Length != n || firstMoment.Length != n || secondMoment.Length != n)
            throw new ArgumentException($"param ({n}), grad ({grad.Length}), first ({firstMoment.Length}) and second moment ({secondMoment.Length}) must have the same length.");
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1L);
        settings.Validate();

        double lr = settings.LearningRate, b1 = settings.Beta1, b2 = settings.Beta2, wd = settings.WeightDecay;
        bool decoupled = settings.DecoupledWeightDecay && wd != 0;
        bool l2 = !settings.DecoupledWeightDecay && wd != 0;
        float decay = (float)(1.0 - lr * wd);
        float l2wd = (float)wd;
        float oneMinusB1 = (float)(1.0 - b1), beta2 = settings.Beta2, oneMinusB2 = (float)(1.0 - b2);
        float stepSize = (float)(lr / (1.0 - Math.Pow(b1, step)));
        float bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(b2, step));
        float eps = settings.Epsilon;

        ref float p = ref MemoryMarshal.GetReference(param);
        ref float g = ref MemoryMarshal.GetReference(grad);
        ref float m = ref MemoryMarshal.GetReference(firstMoment);
        ref float v = ref MemoryMarshal.GetReference(secondMoment);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> cDecay = Vector512.Create(decay), cWd = Vector512.Create(l2wd), c1 = Vector512.Create(oneMinusB1),
                cB2 = Vector512.Create(beta2), c2 = Vector512.Create(oneMinusB2), cStep = Vector512.Create(stepSize),
                cBc2 = Vector512.Create(bc2Sqrt), cEps = Vector512.Create(eps);
            for (; i <= n - 16; i += 16)
            {
                var pi = Vector512.LoadUnsafe(ref p, (nuint)i);
                var gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                if (decoupled) pi *= cDecay;
                if (l2) gi += cWd * pi;
                var mi = Vector512.LoadUnsafe(ref m, (nuint)i);
                mi += c1 * (gi - mi);
                var vi = cB2 * Vector512.LoadUnsafe(ref v, (nuint)i) + c2 * gi * gi;
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                (pi - cStep * mi / (Vector512.Sqrt(vi) / cBc2 + cEps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> cDecay = Vector256.Create(decay), cWd = Vector256.Create(l2wd), c1 = Vector256.Create(oneMinusB1),
                cB2 = Vector256.Create(beta2), c2 = Vector256.Create(oneMinusB2), cStep = Vector256.Create(stepSize),
                cBc2 = Vector256.Create(bc2Sqrt), cEps = Vector256.Create(eps);
            for (; i <= n - 8; i += 8)
            {
                var pi = Vector256.LoadUnsafe(ref p, (nuint)i);
                var gi = Vector256.LoadUnsafe(ref g, (nuint)i);
                if (decoupled) pi *= cDecay;
                if (l2) gi += cWd * pi;
                var mi = Vector256.LoadUnsafe(ref m, (nuint)i);
                mi += c1 * (gi - mi);
                var vi = cB2 * Vector256.LoadUnsafe(ref v, (nuint)i) + c2 * gi * gi;
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                (pi - cStep * mi / (Vector256.Sqrt(vi) / cBc2 + cEps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> cDecay = Vector128.Create(decay), cWd = Vector128.Create(l2wd), c1 = Vector128.Create(oneMinusB1),
                cB2 = Vector128.Create(beta2), c2 = Vector128.Create(oneMinusB2), cStep = Vector128.Create(stepSize),
                cBc2 = Vector128.Create(bc2Sqrt), cEps = Vector128.Create(eps);
            for (; i <= n - 4; i += 4)
            {
                var pi = Vector128.LoadUnsafe(ref p, (nuint)i);
                var gi = Vector128.LoadUnsafe(ref g, (nuint)i);
                if (decoupled) pi *= cDecay;
                if (l2) gi += cWd * pi;
                var mi = Vector128.LoadUnsafe(ref m, (nuint)i);
                mi += c1 * (gi - mi);
                var vi = cB2 * Vector128.LoadUnsafe(ref v, (nuint)i) + c2 * gi * gi;
                mi.StoreUnsafe(ref m, (nuint)i);
                vi.StoreUnsafe(ref v, (nuint)i);
                (pi - cStep * mi / (Vector128.Sqrt(vi) / cBc2 + cEps)).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref p, i);
            float gi = Unsafe.Add(ref g, i);
            if (decoupled) pi *= decay;
            if (l2) gi += l2wd * pi;
            float mi = Unsafe.Add(ref m, i);
            mi += oneMinusB1 * (gi - mi);
            float vi = beta2 * Unsafe.Add(ref v, i) + oneMinusB2 * gi * gi;
            Unsafe.Add(ref m, i) = mi;
            Unsafe.Add(ref v, i) = vi;
            Unsafe.Add(ref p, i) = pi - stepSize * mi / (MathF.Sqrt(vi) / bc2Sqrt + eps);
        }
    }
}
