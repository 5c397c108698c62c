using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// Task arithmetic (Ilharco et al. 2023) streamed through the device: theta = theta0 + lambda * sum_k w_k tau_k,
/// the same f32 operations in the same order as <see cref="Merge.TaskArithmetic"/>, so the bits are equal:
///   from models:        acc = w_0 (theta_0 - theta0); acc = acc + w_k (theta_k - theta0) (k = 1..K-1)
///   from task vectors:  acc = w_0 tau_0;              acc = acc + w_k tau_k
///   then                theta = theta0 + lambda * acc          (K = 0: theta = theta0)
/// The K inputs are one stacked [K, n] buffer (task k at k * n). Grid-stride over the elements.
/// </summary>
public static class TaskArithmeticMerge
{
    /// <summary>Queues output = theta0 + lambda * sum_k weights[k] (thetas[k] - theta0).</summary>
    public static void Merge(DeviceContext device, ArrayView<float> theta0, ArrayView<float> thetas, ArrayView<float> weights, float lambda,
        ArrayView<float> output) => Launch(device, theta0, thetas, weights, lambda, output, deltas: 0);

    /// <summary>Queues output = theta0 + lambda * sum_k weights[k] taus[k], for task vectors already formed.</summary>
    public static void MergeDeltas(DeviceContext device, ArrayView<float> theta0, ArrayView<float> taus, ArrayView<float> weights, float lambda,
        ArrayView<float> output) => Launch(device, theta0, taus, weights, lambda, output, deltas: 1);

    private static void Launch(DeviceContext device, ArrayView<float> theta0, ArrayView<float> stacked, ArrayView<float> weights, float lambda,
        ArrayView<float> output, int deltas)
    {
        long n = output.Length;
        if (theta0.Length != n || stacked.Length != weights.Length * n)
            throw new ArgumentException($"theta0 ({theta0.Length}), the {weights.Length} stacked tasks ({stacked.Length}) and output ({n}) do not match");
        if (n == 0) return;
        if (weights.Length == 0)
        {
            output.CopyFrom(theta0);
            return;
        }
        var kernel = device.Kernel(nameof(TaskArithmeticMerge), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(n);
        kernel(width, width, deltas, theta0, stacked, weights, lambda, output);
    }

    private static Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, ArrayView<float>> Load<T>(Accelerator a)
        where T : struct, IIeee => a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, float,
        ArrayView<float>>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, int deltas, ArrayView<float> theta0, ArrayView<float> stacked, ArrayView<float> w,
        float lambda, ArrayView<float> output) where T : struct, IIeee
    {
        var f = default(T);
        long n = output.Length;
        int k = (int)w.Length;
        for (long i = thread; i < n; i += width)
        {
            float b = theta0[i];
            float acc = f.Mul(w[0], deltas != 0 ? stacked[i] : f.Sub(stacked[i], b));
            for (int t = 1; t < k; t++)
                acc = f.Add(acc, f.Mul(w[t], deltas != 0 ? stacked[t * n + i] : f.Sub(stacked[t * n + i], b)));
            output[i] = f.Add(b, f.Mul(lambda, acc));
        }
    }
}
