using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// The coefficient gradient of AdaMerging on the device: dL/dc[l][k] = &lt;G_l, tau_k,l&gt; (chain rule
/// through theta_l = theta0_l + sum_k c_k tau_k,l; G = the gradient summed over the step's runs), every
/// product and sum in float64. A fixed-order reduction over the <see cref="SharedLayout"/>'s tiles, in
/// three passes, each output written by one thread (no atomics), so the bits depend on neither the device
/// nor the thread count or scheduling:
///   lanes: lane j of tile t, per task: s = 0; s = s + g[e] * tau_k[e] for e = start + j, + Lanes, ... (in order)
///   tiles: per tile and task, the Lanes lane sums added in lane order (from 0)
///   tensors: per tensor and task, its tile sums added in tile order (from 0)
/// The host sums per 256 KiB slice with vector lanes, so the two agree to rounding (about 1e-15 relative),
/// not to the bit.
/// </summary>
public static class GradientDots
{
    /// <summary>
    /// Queues dots[l * K + k] = &lt;sum_l, tau_k,l&gt; using <paramref name="scratch"/>
    /// (<see cref="ScratchLength"/> doubles) for the lane and tile partials.
    /// </summary>
    public static void Run(DeviceContext device, SharedLayout layout, ArrayView<float> sum, ArrayView<float> taus,
        ArrayView<double> scratch, ArrayView<double> dots)
    {
        layout.CheckModel(sum, nameof(sum));
        layout.CheckTaus(taus, nameof(taus));
        int k = layout.K;
        long laneCount = (long)layout.TileCount * SharedLayout.Lanes * k, tileCount = (long)layout.TileCount * k;
        if (scratch.Length < ScratchLength(layout)) throw new ArgumentException($"scratch has {scratch.Length} doubles, needs {ScratchLength(layout)}", nameof(scratch));
        if (dots.Length != (long)layout.TensorCount * k) throw new ArgumentException($"dots has {dots.Length} entries, expected tensors x K = {layout.TensorCount * k}", nameof(dots));
        if (dots.Length == 0) return;
        var lanes = scratch.SubView(0, laneCount);
        var tiles = scratch.SubView(laneCount, tileCount);
        var laneKernel = device.Kernel(nameof(GradientDots) + ".Lanes", LoadLanes<HostIeee>, LoadLanes<PtxIeee>);
        var tileKernel = device.Kernel(nameof(GradientDots) + ".Tiles", LoadTiles<HostIeee>, LoadTiles<PtxIeee>);
        var tensorKernel = device.Kernel(nameof(GradientDots) + ".Tensors", LoadTensors<HostIeee>, LoadTensors<PtxIeee>);
        long items = (long)layout.TileCount * SharedLayout.Lanes;
        if (items > 0)
        {
            int width = device.Width(items);
            laneKernel(width, width, items, layout.TileStarts, layout.TileTensors, layout.Offsets, k, sum, taus, lanes);
            width = device.Width(tileCount);
            tileKernel(width, width, tileCount, k, lanes, tiles);
        }
        int tensorWidth = device.Width(dots.Length);
        tensorKernel(tensorWidth, tensorWidth, dots.Length, k, layout.FirstTiles, tiles, dots);
    }

    /// <summary>Doubles of scratch <see cref="Run"/> needs: (Lanes + 1) per tile and task.</summary>
    public static long ScratchLength(SharedLayout layout) => Math.Max(1, (long)layout.TileCount * (SharedLayout.Lanes + 1) * layout.K);

    private static Action<Index1D, int, long, ArrayView<long>, ArrayView<int>, ArrayView<long>, int, ArrayView<float>, ArrayView<float>,
        ArrayView<double>> LoadLanes<T>(Accelerator a) where T : struct, IIeee => a.LoadAutoGroupedStreamKernel<Index1D, int, long,
        ArrayView<long>, ArrayView<int>, ArrayView<long>, int, ArrayView<float>, ArrayView<float>, ArrayView<double>>(LaneKernel<T>);

    private static Action<Index1D, int, long, int, ArrayView<double>, ArrayView<double>> LoadTiles<T>(Accelerator a) where T : struct, IIeee =>
        a.LoadAutoGroupedStreamKernel<Index1D, int, long, int, ArrayView<double>, ArrayView<double>>(TileKernel<T>);

    private static Action<Index1D, int, long, int, ArrayView<int>, ArrayView<double>, ArrayView<double>> LoadTensors<T>(Accelerator a)
        where T : struct, IIeee =>
        a.LoadAutoGroupedStreamKernel<Index1D, int, long, int, ArrayView<int>, ArrayView<double>, ArrayView<double>>(TensorKernel<T>);

    /// <summary>lanes[(tile * Lanes + lane) * K + k] = sum over the lane's elements of g * tau_k, in element order.</summary>
    internal static void LaneKernel<T>(Index1D thread, int width, long items, ArrayView<long> tileStarts, ArrayView<int> tileTensors,
        ArrayView<long> offsets, int k, ArrayView<float> g, ArrayView<float> taus, ArrayView<double> lanes)
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
            for (int t = 0; t < k; t++)
            {
                long tau = k * offset + t * n - offset;
                double s = 0;
                for (long e = start + lane; e < end; e += SharedLayout.Lanes) s = f.Add(s, f.Mul((double)g[e], (double)taus[tau + e]));
                lanes[item * k + t] = s;
            }
        }
    }

    /// <summary>tiles[tile * K + k] = the tile's lane sums added in lane order.</summary>
    internal static void TileKernel<T>(Index1D thread, int width, long items, int k, ArrayView<double> lanes, ArrayView<double> tiles)
        where T : struct, IIeee
    {
        var f = default(T);
        for (long item = thread; item < items; item += width)
        {
            long tile = item / k;
            int t = (int)(item % k);
            double s = 0;
            for (int lane = 0; lane < SharedLayout.Lanes; lane++) s = f.Add(s, lanes[(tile * SharedLayout.Lanes + lane) * k + t]);
            tiles[item] = s;
        }
    }

    /// <summary>dots[l * K + k] = tensor l's tile sums added in tile order.</summary>
    internal static void TensorKernel<T>(Index1D thread, int width, long items, int k, ArrayView<int> firstTiles, ArrayView<double> tiles,
        ArrayView<double> dots) where T : struct, IIeee
    {
        var f = default(T);
        for (long item = thread; item < items; item += width)
        {
            int l = (int)(item / k), t = (int)(item % k);
            double s = 0;
            for (long tile = firstTiles[l]; tile < firstTiles[l + 1]; tile++) s = f.Add(s, tiles[tile * k + t]);
            dots[item] = s;
        }
    }
}
