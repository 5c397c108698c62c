using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// TIES' trim (Yadav et al. 2023, global scope) on the device, as <see cref="Merge.Ties.SubtractTrim"/> and
/// <see cref="Merge.Ties.TrimInPlace"/>: tau_k = theta_k - theta0, kept where |tau_k| &gt;= threshold_k
/// (entries equal to it kept), else +0. The thresholds come from the host (the Selection code over the
/// whole model). Stacked [K, n] buffers; grid-stride over the K x n entries.
/// </summary>
public static class TiesTrim
{
    /// <summary>Queues taus[k] = trim(thetas[k] - theta0, thresholds[k]).</summary>
    public static void SubtractTrim(DeviceContext device, ArrayView<float> thetas, ArrayView<float> theta0, ArrayView<float> thresholds,
        ArrayView<float> taus)
    {
        if (thetas.Length != thresholds.Length * theta0.Length || taus.Length != thetas.Length)
            throw new ArgumentException($"thetas ({thetas.Length}), taus ({taus.Length}), theta0 ({theta0.Length}) and {thresholds.Length} thresholds do not match");
        Launch(device, thetas, theta0, thresholds, taus, subtract: 1);
    }

    /// <summary>Queues taus[k] = trim(taus[k], thresholds[k]) in place.</summary>
    public static void TrimInPlace(DeviceContext device, ArrayView<float> taus, ArrayView<float> thresholds)
    {
        if (thresholds.Length == 0 ? taus.Length != 0 : taus.Length % thresholds.Length != 0)
            throw new ArgumentException($"taus ({taus.Length}) is not {thresholds.Length} equal tasks");
        Launch(device, taus, taus, thresholds, taus, subtract: 0);
    }

    private static void Launch(DeviceContext device, ArrayView<float> a, ArrayView<float> theta0, ArrayView<float> thresholds,
        ArrayView<float> taus, int subtract)
    {
        if (taus.Length == 0) return;
        var kernel = device.Kernel(nameof(TiesTrim), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(taus.Length);
        kernel(width, width, subtract, taus.Length / thresholds.Length, a, theta0, thresholds, taus);
    }

    private static Action<Index1D, int, int, long, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> Load<T>(Accelerator a)
        where T : struct, IIeee => a.LoadAutoGroupedStreamKernel<Index1D, int, int, long, ArrayView<float>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, int subtract, long n, ArrayView<float> a, ArrayView<float> theta0,
        ArrayView<float> thresholds, ArrayView<float> taus) where T : struct, IIeee
    {
        var f = default(T);
        for (long j = thread; j < taus.Length; j += width)
        {
            float t = subtract != 0 ? f.Sub(a[j], theta0[j % n]) : a[j];
            taus[j] = Ieee.Abs(t) >= thresholds[j / n] ? t : 0f;
        }
    }
}
