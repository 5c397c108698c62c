using Amalgam.Kernels.Optim;
using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// <see cref="Adam"/> (PyTorch semantics) on the device, the same f32 operations in the same order as
/// <see cref="Adam.Step"/>, so the bits are equal:
/// <code>
///   p = p * (1 - lr * wd)                  (decoupled decay)   or   g = g + wd * p   (L2)
///   m = m + (1 - b1) * (g - m)
///   v = b2 * v + (1 - b2) * g * g
///   p = p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// </code>
/// </summary>
public static class AdamStep
{
    /// <summary>Queues step <paramref name="step"/> (1-based) over one parameter.</summary>
    public static void Run(DeviceContext device, ArrayView<float> param, ArrayView<float> grad, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, in AdamSettings settings, long step)
    {
        long n = param.Length;
        if (grad.Length != n || firstMoment.Length != n || secondMoment.Length != n)
            throw new ArgumentException($"param ({n}), grad ({grad.Length}), first ({firstMoment.Length}) and second moment ({secondMoment.Length}) must have the same length.");
        var scalars = new AdamScalars(settings, step);
        if (n == 0) return;
        var kernel = device.Kernel(nameof(AdamStep), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(n);
        kernel(width, width, param, grad, firstMoment, secondMoment, scalars);
    }

    private static Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars> Load<T>(Accelerator a)
        where T : struct, IIeee =>
        a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v,
        AdamScalars s) where T : struct, IIeee
    {
        for (long i = thread; i < p.Length; i += width) p[i] = Update<T>(p[i], g[i], m, v, i, s);
    }

    /// <summary>One element: updates m[i] and v[i], returns the new parameter.</summary>
    internal static float Update<T>(float pi, float gi, ArrayView<float> m, ArrayView<float> v, long i, in AdamScalars s) where T : struct, IIeee
    {
        var f = default(T);
        if (s.Decoupled != 0) pi = f.Mul(pi, s.Decay);
        if (s.UsesL2 != 0) gi = f.Add(gi, f.Mul(s.L2, pi));
        float mi = m[i];
        mi = f.Add(mi, f.Mul(s.OneMinusB1, f.Sub(gi, mi)));
        float vi = f.Add(f.Mul(s.Beta2, v[i]), f.Mul(f.Mul(s.OneMinusB2, gi), gi));
        m[i] = mi;
        v[i] = vi;
        return f.Sub(pi, f.Mul(s.StepSize, mi) / f.Add(MathF.Sqrt(vi) / s.Bc2Sqrt, s.Epsilon));
    }
}
