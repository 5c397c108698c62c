using System.Diagnostics;
using Amalgam.Kernels.Device;
using Amalgam.Kernels.Optim;
using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.DeviceCheck;

/// <summary>
/// Times the AdaMerging step's device kernels and the streaming task-arithmetic merge on ViT-B/32-shaped tensors
/// (OpenAI CLIP ViT-B/32's image tower: 87.8M parameters in 12 blocks, times <c>fraction</c>) with K task vectors,
/// and reports each as a ratio to a device-to-device copy of the K task vectors timed in the same run: these
/// kernels stream memory, so the copy's bytes per second is their bound. Median of 10 runs after 3 warm-ups,
/// each run synchronised.
/// </summary>
internal static class KernelTimes
{
    public static int Run(DeviceContext device, int k, double fraction)
    {
        long[] lengths = VitB32Lengths(fraction);
        using var layout = new SharedLayout(device, lengths, k);
        long n = layout.Elements;
        Console.WriteLine($"kernel times on {device.Name} ({device.Accelerator.Name}): {lengths.Length} tensors, {n:N0} elements, K = {k}, {(k + 1) * n * 4 / 1e9:F2} GB of theta0 and task vectors");
        using var theta0 = device.Allocate<float>(n);
        using var taus = device.Allocate<float>(k * n);
        using var tausCopy = device.Allocate<float>(k * n);
        using var theta = device.Allocate<float>(n);
        using var grad = device.Allocate<float>(n);
        using var sum = device.Allocate<float>(n);
        using var coefficients = device.Allocate<float>((long)layout.TensorCount * k);
        using var scratch = device.Allocate<double>(GradientDots.ScratchLength(layout));
        using var dots = device.Allocate<double>((long)layout.TensorCount * k);
        using var raw = device.Allocate<float>((long)layout.TensorCount * k);
        using var m1 = device.Allocate<float>((long)layout.TensorCount * k);
        using var m2 = device.Allocate<float>((long)layout.TensorCount * k);
        using var weights = device.Upload<float>(Enumerable.Repeat(1f, k).ToArray());
        foreach (var b in new[] { theta0, taus, grad, sum, coefficients, raw, m1, m2 }) b.MemSetToZero();
        device.Synchronize();

        double copy = Median(device, () => taus.View.CopyTo(tausCopy.View));
        double bound = 2.0 * k * n * 4 / copy;   // bytes read and written per second
        Console.WriteLine($"  device copy of the K task vectors: {copy * 1e3:F2} ms, {bound / 1e9:F0} GB/s (read + written): the bound below");
        var settings = new AdamSettings(LearningRate: 1e-3f);
        long step = 0;
        Report("ThetaMerge (theta = theta0 + sum_k c_k tau_k)", (k + 2.0) * n * 4, bound,
            Median(device, () => ThetaMerge.Run(device, layout, theta0.View, taus.View, coefficients.View, theta.View)));
        Report("GradientAccumulate (sum = sum + g)", 3.0 * n * 4, bound,
            Median(device, () => GradientAccumulate.Run(device, grad.View, sum.View, first: false)));
        Report("GradientDots (<G, tau_k> in float64, fixed order)", (k + 1.0) * n * 4, bound,
            Median(device, () => GradientDots.Run(device, layout, sum.View, taus.View, scratch.View, dots.View)));
        Report("CoefficientStep (Adam + clamp, layer-wise)", 0, bound,
            Median(device, () => CoefficientStep.Run(device, layout.TensorCount, k, layerWise: true, dots.View, raw.View, m1.View, m2.View, settings, ++step, coefficients.View)));
        Report("TaskArithmeticMerge.MergeDeltas (theta0 + lambda sum_k tau_k)", (k + 2.0) * n * 4, bound,
            Median(device, () => TaskArithmeticMerge.MergeDeltas(device, theta0.View, taus.View, weights.View, 0.3f, theta.View)));
        return 0;
    }

    private static void Report(string what, double bytes, double bound, double seconds)
    {
        string rate = bytes > 0 ? $", {bytes / seconds / 1e9:F0} GB/s = {bytes / seconds / bound:F2} x the copy's" : "";
        Console.WriteLine($"  {what}: {seconds * 1e3:F3} ms{rate}");
    }

    private static double Median(DeviceContext device, Action launch)
    {
        for (int i = 0; i < 3; i++) launch();
        device.Synchronize();
        var times = new double[10];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            launch();
            device.Synchronize();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return (times[4] + times[5]) / 2;
    }

    /// <summary>The image tower's float tensors: patch embedding, class and position embeddings, pre-norm, 12 blocks
    /// (norms, packed q/k/v, output projection, MLP 768 -> 3072 -> 768), post-norm and projection to 512. Each length is
    /// scaled by <paramref name="fraction"/> (at least 1).</summary>
    private static long[] VitB32Lengths(double fraction)
    {
        const long w = 768;
        var full = new List<long> { 3 * 32 * 32 * w, w, 50 * w, w, w };
        for (int b = 0; b < 12; b++) full.AddRange([w, w, 3 * w * w, 3 * w, w * w, w, w, w, w * 4 * w, 4 * w, 4 * w * w, w]);
        full.AddRange([w, w, w * 512]);
        return full.Select(l => Math.Max(1, (long)(l * fraction))).ToArray();
    }
}
