using ILGPU.Runtime;
using ILGPU;

namespace Amalgam.Kernels.Device;

/// <summary>
/// AdaMerging's merge on the device: theta_l = theta0_l + sum_k c[l][k] tau_k,l for every shared tensor l
/// (c = the clamped coefficients, [tensor * K + task]; task-wise coefficients are the same row for every
/// tensor). The same operations per element as the host kernel (Kernels/AdaMerging/ThetaCombine), so the bits are equal:
///   c[l][*] not all equal: acc = +0; acc = acc + c_k tau_k (k = 0..K-1); theta = theta0 + acc
///   all equal to c:        acc = +0; acc = acc + tau_k (k = 0..K-1);     theta = theta0 + c * acc
/// One thread per (tile, lane) item of the <see cref="SharedLayout"/>, grid-stride.
/// </summary>
public static class ThetaMerge
{
    /// <summary>Queues theta = theta(c) on <paramref name="device"/>'s stream.</summary>
    public static void Run(DeviceContext device, SharedLayout layout, ArrayView<float> theta0, ArrayView<float> taus,
        ArrayView<float> coefficients, ArrayView<float> theta)
    {
        layout.CheckModel(theta0, nameof(theta0));
        layout.CheckTaus(taus, nameof(taus));
        layout.CheckModel(theta, nameof(theta));
        if (coefficients.Length != (long)layout.TensorCount * layout.K)
            throw new ArgumentException($"coefficients has {coefficients.Length} entries, expected tensors x K = {layout.TensorCount * layout.K}", nameof(coefficients));
        long items = (long)layout.TileCount * SharedLayout.Lanes;
        if (items == 0) return;
        var kernel = device.Kernel(nameof(ThetaMerge), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(items);
        kernel(width, width, items, layout.TileStarts, layout.TileTensors, layout.Offsets, layout.K, theta0, taus, coefficients, theta);
    }

    private static Action<Index1D, int, long, ArrayView<long>, ArrayView<int>, ArrayView<long>, int, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, ArrayView<float>> Load<T>(Accelerator a) where T : struct, IIeee => a.LoadAutoGroupedStreamKernel<Index1D, int, long,
        ArrayView<long>, ArrayView<int>, ArrayView<long>, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, long items, ArrayView<long> tileStarts, ArrayView<int> tileTensors,
        ArrayView<long> offsets, int k, ArrayView<float> theta0, ArrayView<float> taus, ArrayView<float> c, ArrayView<float> theta)
        where T : struct, IIeee
    {
        var f = default(T);
        for (long item = thread; item < items; item += width)
        {
            long tile = item / SharedLayout.Lanes;
            int lane = (int)(item % SharedLayout.Lanes);
            int l = tileTensors[tile];
            long offset = offsets[l], n = offsets[l + 1] - offset;
            long start = tileStarts[tile];
            long end = start + SharedLayout.TileElements < offset + n ? start + SharedLayout.TileElements : offset + n;
            int c0 = l * k;
            bool equal = k > 0;
            for (int t = 1; t < k; t++) equal &= c[c0 + t] == c[c0];
            for (long e = start + lane; e < end; e += SharedLayout.Lanes)
            {
                long tau = k * offset + (e - offset);
                float acc = 0f;
                if (equal)
                {
                    for (int t = 0; t < k; t++) acc = f.Add(acc, taus[tau + t * n]);
                    theta[e] = f.Add(theta0[e], f.Mul(c[c0], acc));
                }
                else
                {
                    for (int t = 0; t < k; t++) acc = f.Add(acc, f.Mul(c[c0 + t], taus[tau + t * n]));
                    theta[e] = f.Add(theta0[e], acc);
                }
            }
        }
    }
}
