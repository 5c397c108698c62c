using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// The count behind TIES' majority zero sign, as <see cref="Merge.Ties.ElectSign"/> returns it:
/// sum over elements of gamma = sign(s) in {-1, 0, +1}, s = w_0 t_0 + w_1 t_1 + ... (f32, k in order).
/// Each thread of a grid-stride launch counts its elements into its own slot; the host adds the
/// slots. Integer sums are exact in any order, so the count does not depend on the thread count.
/// </summary>
public static class TiesSignSum
{
    /// <summary>Runs the count over <paramref name="trimmed"/> ([K, n]) and returns it (waits for the device).</summary>
    public static long Run(DeviceContext device, ArrayView<float> trimmed, ArrayView<float> weights)
    {
        long k = weights.Length;
        if (k == 0 || trimmed.Length == 0) return 0;
        if (trimmed.Length % k != 0) throw new ArgumentException($"trimmed ({trimmed.Length}) is not {k} equal tasks", nameof(trimmed));
        long n = trimmed.Length / k;
        int width = device.Width(n);
        using var partials = device.Allocate<long>(width);
        var kernel = device.Kernel(nameof(TiesSignSum), Load<HostIeee>, Load<PtxIeee>);
        kernel(width, width, n, trimmed, weights, partials.View);
        long total = 0;
        foreach (long p in device.Download<long>(partials.View)) total += p;
        return total;
    }

    private static Action<Index1D, int, long, ArrayView<float>, ArrayView<float>, ArrayView<long>> Load<T>(Accelerator a) where T : struct, IIeee =>
        a.LoadAutoGroupedStreamKernel<Index1D, int, long, ArrayView<float>, ArrayView<float>, ArrayView<long>>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, long n, ArrayView<float> trimmed, ArrayView<float> w, ArrayView<long> partials)
        where T : struct, IIeee
    {
        var f = default(T);
        int k = (int)w.Length;
        long count = 0;
        for (long i = thread; i < n; i += width)
        {
            float s = f.Mul(w[0], trimmed[i]);
            for (int t = 1; t < k; t++) s = f.Add(s, f.Mul(w[t], trimmed[t * n + i]));
            count += s > 0f ? 1 : s < 0f ? -1 : 0;
        }
        partials[thread] = count;
    }
}
