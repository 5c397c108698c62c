using Amalgam.Kernels.Optim;
using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// AdaMerging's optimiser step on the device, as the host trainer does it: the raw coefficients' gradient
/// from the per-tensor dots (<see cref="GradientDots"/>, [tensor * K + task]) summed in tensor order from
/// 0 (task-wise: g[k] = 0 + dots[0][k] + dots[1][k] + ...; layer-wise: g[l][k] = 0 + dots[l][k]), zeroed
/// where the clamp is flat (raw outside [0, 1]: torch.clamp's backward), rounded to f32, then
/// <see cref="AdamStep"/>; and the clamped coefficients per tensor, clamp(raw, 0, 1) as Math.Clamp, for
/// the next <see cref="ThetaMerge"/>. Bit-identical to the host's.
/// </summary>
public static class CoefficientStep
{
    /// <summary>
    /// Queues Adam step <paramref name="step"/> on <paramref name="raw"/> (K entries task-wise, tensors x K
    /// layer-wise) and writes <paramref name="clamped"/> ([tensor * K + task]) from the new values.
    /// </summary>
    public static void Run(DeviceContext device, int tensors, int k, bool layerWise, ArrayView<double> dots, ArrayView<float> raw,
        ArrayView<float> firstMoment, ArrayView<float> secondMoment, in AdamSettings settings, long step, ArrayView<float> clamped)
    {
        long count = layerWise ? (long)tensors * k : k;
        if (dots.Length != (long)tensors * k) throw new ArgumentException($"dots has {dots.Length} entries, expected tensors x K = {tensors * k}", nameof(dots));
        if (raw.Length != count || firstMoment.Length != count || secondMoment.Length != count)
            throw new ArgumentException($"raw ({raw.Length}), first ({firstMoment.Length}) and second moment ({secondMoment.Length}) must have {count} entries.");
        var scalars = new AdamScalars(settings, step);
        if (count == 0) return;
        var kernel = device.Kernel(nameof(CoefficientStep), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(count);
        kernel(width, width, tensors, k, layerWise ? 1 : 0, dots, raw, firstMoment, secondMoment, scalars);
        Clamp(device, tensors, k, layerWise, raw, clamped);
    }

    /// <summary>Queues clamped[l * K + k] = clamp(raw of (l, k), 0, 1).</summary>
    public static void Clamp(DeviceContext device, int tensors, int k, bool layerWise, ArrayView<float> raw, ArrayView<float> clamped)
    {
        if (clamped.Length != (long)tensors * k) throw new ArgumentException($"clamped has {clamped.Length} entries, expected tensors x K = {tensors * k}", nameof(clamped));
        if (raw.Length != (layerWise ? (long)tensors * k : k)) throw new ArgumentException($"raw has {raw.Length} entries", nameof(raw));
        if (clamped.Length == 0) return;
        var kernel = device.Kernel(nameof(CoefficientStep) + ".Clamp", LoadClamp, LoadClamp);
        int width = device.Width(clamped.Length);
        kernel(width, width, k, layerWise ? 1 : 0, raw, clamped);
    }

    private static Action<Index1D, int, int, int, int, ArrayView<double>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>
        Load<T>(Accelerator a) where T : struct, IIeee => a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, int, ArrayView<double>,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamScalars>(Kernel<T>);

    private static Action<Index1D, int, int, int, ArrayView<float>, ArrayView<float>> LoadClamp(Accelerator a) =>
        a.LoadAutoGroupedStreamKernel<Index1D, int, int, int, ArrayView<float>, ArrayView<float>>(ClampKernel);

    internal static void Kernel<T>(Index1D thread, int width, int tensors, int k, int layerWise, ArrayView<double> dots, ArrayView<float> raw,
        ArrayView<float> m, ArrayView<float> v, AdamScalars s) where T : struct, IIeee
    {
        var f = default(T);
        for (long j = thread; j < raw.Length; j += width)
        {
            double g = 0;
            if (layerWise != 0) g = f.Add(g, dots[j]);
            else for (int l = 0; l < tensors; l++) g = f.Add(g, dots[(long)l * k + j]);
            float r = raw[j];
            if (!(r >= 0f && r <= 1f)) g = 0;
            raw[j] = AdamStep.Update<T>(r, (float)g, m, v, j, s);
        }
    }

    internal static void ClampKernel(Index1D thread, int width, int k, int layerWise, ArrayView<float> raw, ArrayView<float> clamped)
    {
        for (long i = thread; i < clamped.Length; i += width)
        {
            float r = raw[layerWise != 0 ? i : i % k];
            clamped[i] = r < 0f ? 0f : r > 1f ? 1f : r;
        }
    }
}
