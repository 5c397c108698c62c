using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

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
/// are. The vector loop is written once, generic over the width (<see cref="IFloatLanes{TV}"/>); every width
/// evaluates the same IEEE operations in the same order (no FMA), so results are bit-identical whichever path
/// handles an element. No allocation.
/// </summary>
public static class Adam
{
    /// <summary>
    /// Step number <paramref name="step"/> (1-based: the first update is step 1) over one
    /// parameter; <paramref name="firstMoment"/> and <paramref name="secondMoment"/> start at zero.
    /// </summary>
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> firstMoment, Span<float> secondMoment,
        in AdamSettings settings, long step) => Step(param, grad, firstMoment, secondMoment, settings, step, VectorWidths.All);

    /// <summary><see cref="Step(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in AdamSettings, long)"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static unsafe void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> firstMoment, Span<float> secondMoment,
        in AdamSettings settings, long step, VectorWidths widths)
    {
        int n = param.Length;
        if (grad.Length != n || firstMoment.Length != n || secondMoment.Length != n)
            throw new ArgumentException($"param ({n}), grad ({grad.Length}), first ({firstMoment.Length}) and second moment ({secondMoment.Length}) must have the same length.");
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1L);
        settings.Validate();

        double lr = settings.LearningRate, b1 = settings.Beta1, b2 = settings.Beta2, wd = settings.WeightDecay;
        var c = new Scalars
        {
            Decoupled = settings.DecoupledWeightDecay && wd != 0,
            L2 = !settings.DecoupledWeightDecay && wd != 0,
            Decay = (float)(1.0 - lr * wd),
            L2Wd = (float)wd,
            OneMinusB1 = (float)(1.0 - b1),
            Beta2 = settings.Beta2,
            OneMinusB2 = (float)(1.0 - b2),
            StepSize = (float)(lr / (1.0 - Math.Pow(b1, step))),
            Bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(b2, step)),
            Eps = settings.Epsilon,
        };

        fixed (float* p = param, g = grad, m = firstMoment, v = secondMoment)
        {
            int i = 0;
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Step<Vector512<float>, FloatLanes512>(p, g, m, v, c, i, n);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Step<Vector256<float>, FloatLanes256>(p, g, m, v, c, i, n);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Step<Vector128<float>, FloatLanes128>(p, g, m, v, c, i, n);
            for (; i < n; i++)
            {
                float pi = p[i];
                float gi = g[i];
                if (c.Decoupled) pi *= c.Decay;
                if (c.L2) gi += c.L2Wd * pi;
                float mi = m[i];
                mi += c.OneMinusB1 * (gi - mi);
                float vi = c.Beta2 * v[i] + c.OneMinusB2 * gi * gi;
                m[i] = mi;
                v[i] = vi;
                p[i] = pi - c.StepSize * mi / (MathF.Sqrt(vi) / c.Bc2Sqrt + c.Eps);
            }
        }
    }

    /// <summary>The per-step f32 scalars (rounded once from float64) and the weight decay form.</summary>
    private struct Scalars
    {
        public bool Decoupled, L2;
        public float Decay, L2Wd, OneMinusB1, Beta2, OneMinusB2, StepSize, Bc2Sqrt, Eps;
    }

    /// <summary>The vector loop of <see cref="Step(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in AdamSettings, long)"/> from element <paramref name="i"/>; returns where it stopped.</summary>
    private static unsafe int Step<TV, TL>(float* p, float* g, float* m, float* v, in Scalars c, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        bool decoupled = c.Decoupled, l2 = c.L2;
        TV cDecay = TL.Create(c.Decay), cWd = TL.Create(c.L2Wd), c1 = TL.Create(c.OneMinusB1), cB2 = TL.Create(c.Beta2), c2 = TL.Create(c.OneMinusB2),
            cStep = TL.Create(c.StepSize), cBc2 = TL.Create(c.Bc2Sqrt), cEps = TL.Create(c.Eps);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var pi = TL.Load(p + i);
            var gi = TL.Load(g + i);
            if (decoupled) pi = TL.Multiply(pi, cDecay);
            if (l2) gi = TL.Add(gi, TL.Multiply(cWd, pi));
            var mi = TL.Load(m + i);
            mi = TL.Add(mi, TL.Multiply(c1, TL.Subtract(gi, mi)));
            var vi = TL.Add(TL.Multiply(cB2, TL.Load(v + i)), TL.Multiply(TL.Multiply(c2, gi), gi));
            TL.Store(mi, m + i);
            TL.Store(vi, v + i);
            TL.Store(TL.Subtract(pi, TL.Divide(TL.Multiply(cStep, mi), TL.Add(TL.Divide(TL.Sqrt(vi), cBc2), cEps))), p + i);
        }
        return i;
    }
}
