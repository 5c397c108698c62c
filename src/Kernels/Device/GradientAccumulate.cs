using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// The sum of the loss's gradient in theta over a step's runs (the host's GradientReduction.Accumulate):
/// sum = grad for the first run (a copy), else sum = sum + grad, elementwise in f32, so the bits
/// equal the host's at any thread count. Grid-stride over the elements.
/// </summary>
public static class GradientAccumulate
{
    /// <summary>Queues sum = grad (<paramref name="first"/>) or sum + grad.</summary>
    public static void Run(DeviceContext device, ArrayView<float> grad, ArrayView<float> sum, bool first)
    {
        if (grad.Length != sum.Length) throw new ArgumentException($"grad has {grad.Length} elements, sum {sum.Length}", nameof(grad));
        if (sum.Length == 0) return;
        if (first)
        {
            sum.CopyFrom(grad);
            return;
        }
        var kernel = device.Kernel(nameof(GradientAccumulate), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(sum.Length);
        kernel(width, width, grad, sum);
    }

    private static Action<Index1D, int, ArrayView<float>, ArrayView<float>> Load<T>(Accelerator a) where T : struct, IIeee =>
        a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, ArrayView<float> grad, ArrayView<float> sum) where T : struct, IIeee
    {
        var f = default(T);
        for (long i = thread; i < sum.Length; i += width) sum[i] = f.Add(sum[i], grad[i]);
    }
}
