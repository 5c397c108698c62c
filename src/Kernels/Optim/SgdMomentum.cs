using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Optim;

/// <summary>
/// SGD with momentum, PyTorch semantics (torch.optim.SGD, dampening 0, no Nesterov):
/// g' = g + wd * p (L2 weight decay, only if wd != 0); v = mu * v + g'; p = p - lr * v.
/// With v starting at zero the first step gives v = g', exactly PyTorch's "buf = clone(g)".
/// Every width evaluates the same IEEE operations in the same order, so a result never depends on
/// which path (vector or scalar tail) handled an element. No allocation.
/// </summary>
public static class SgdMomentum
{
    /// <summary>One step over one parameter: updates <paramref name="param"/> and <paramref name="velocity"/> in place.</summary>
    public static void Step(Span<float> param, ReadOnlySpan<float> grad, Span<float> velocity,
        float learningRate, float momentum, float weightDecay = 0f)
    {
        int n = param.Length;
        if (grad.Length != n || velocity.Length != n)
            throw new ArgumentException($"param ({n}), grad ({grad.Length}) and velocity ({velocity.Length}) must have the same length.");
        ref float p = ref MemoryMarshal.GetReference(param);
        ref float g = ref MemoryMarshal.GetReference(grad);
        ref float v = ref MemoryMarshal.GetReference(velocity);
        float lr = learningRate, mu = momentum, wd = weightDecay;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vlr = Vector512.Create(lr), vmu = Vector512.Create(mu), vwd = Vector512.Create(wd);
            for (; i <= n - 16; i += 16)
            {
                var pi = Vector512.LoadUnsafe(ref p, (nuint)i);
                var gi = Vector512.LoadUnsafe(ref g, (nuint)i);
                if (wd != 0f) gi += vwd * pi;
                var vi = vmu * Vector512.LoadUnsafe(ref v, (nuint)i) + gi;
                vi.StoreUnsafe(ref v, (nuint)i);
                (pi - vlr * vi).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vlr = Vector256.Create(lr), vmu = Vector256.Create(mu), vwd = Vector256.Create(wd);
            for (; i <= n - 8; i += 8)
            {
                var pi = Vector256.LoadUnsafe(ref p, (nuint)i);
                var gi = Vector256.LoadUnsafe(ref g, (nuint)i);
                if (wd != 0f) gi += vwd * pi;
                var vi = vmu * Vector256.LoadUnsafe(ref v, (nuint)i) + gi;
                vi.StoreUnsafe(ref v, (nuint)i);
                (pi - vlr * vi).StoreUnsafe(ref p, (nuint)i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> vlr = Vector128.Create(lr), vmu = Vector128.Create(mu), vwd = Vector128.Create(wd);
            for (; i <= n - 4; i += 4)
            {
                var pi = Vector128.LoadUnsafe(ref p, (nuint)i);
                var gi = Vector128.LoadUnsafe(ref g, (nuint)i);
                if (wd != 0f) gi += vwd * pi;
                var vi = vmu * Vector128.LoadUnsafe(ref v, (nuint)i) + gi;
                vi.StoreUnsafe(ref v, (nuint)i);
                (pi - vlr * vi).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float pi = Unsafe.Add(ref p, i);
            float gi = Unsafe.Add(ref g, i);
            if (wd != 0f) gi += wd * pi;
            float vi = mu * Unsafe.Add(ref v, i) + gi;
            Unsafe.Add(ref v, i) = vi;
            Unsafe.Add(ref p, i) = pi - lr * vi;
        }
    }
}
