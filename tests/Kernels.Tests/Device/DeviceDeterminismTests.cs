using Amalgam.Kernels.Device;
using Amalgam.Kernels.Merge;
using static Amalgam.Kernels.Tests.Device.DeviceData;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>
/// The same bits from differently shaped accelerators: ILGPU CPU accelerators of 2 and 32 threads (so
/// grid-stride launches of 2 and 32 threads), and the device under test (CUDA where
/// AMALGAM_DEVICE_TESTS says so), for the float64 reduction and the merges.
/// </summary>
public sealed class DeviceDeterminismTests
{
    private static readonly long[] Lengths = [30_001, 4_096, 777];
    private const int K = 3;

    private static (double[] Dots, float[] Theta, float[] Ties, long Signs) Run(DeviceContext device, float[] theta0, float[] taus, float[] g, float[] c)
    {
        using var layout = new SharedLayout(device, Lengths, K);
        using var d0 = device.Upload<float>(theta0);
        using var dTaus = device.Upload<float>(taus);
        using var dg = device.Upload<float>(g);
        using var dc = device.Upload<float>(c);
        using var theta = device.Allocate<float>(layout.Elements);
        using var scratch = device.Allocate<double>(GradientDots.ScratchLength(layout));
        using var dots = device.Allocate<double>(Lengths.Length * K);
        ThetaMerge.Run(device, layout, d0.View, dTaus.View, dc.View, theta.View);
        GradientDots.Run(device, layout, dg.View, dTaus.View, scratch.View, dots.View);
        // TIES over the first tensor, its task vectors stacked [K, n].
        long n = Lengths[0];
        using var w = device.Upload<float>([1f, 0.75f, 1.5f]);
        using var ties = device.Allocate<float>(n);
        var trimmed = dTaus.View.SubView(0, K * n);
        TiesMerge.Run(device, trimmed, w.View, 1f, TiesMergeMode.Mean, d0.View.SubView(0, n), 0.8f, ties.View);
        long signs = TiesSignSum.Run(device, trimmed, w.View);
        return (device.Download(dots), device.Download(theta), device.Download(ties), signs);
    }

    [Test]
    public void ResultsDoNotDependOnTheAccelerator()
    {
        var rng = new System.Random(5);
        long e = Lengths.Sum();
        float[] theta0 = Uniform(rng, e), taus = Grid(rng, K * e), g = Uniform(rng, e);
        float[] c = Enumerable.Range(0, Lengths.Length * K).Select(_ => (float)rng.NextDouble()).ToArray();
        using var narrow = DeviceContext.Cpu(2, 1, 1);
        using var wide = DeviceContext.Cpu(4, 4, 2);
        Assert.That(narrow.GridWidth, Is.Not.EqualTo(wide.GridWidth));
        var a = Run(narrow, theta0, taus, g, c);
        var b = Run(wide, theta0, taus, g, c);
        var d = Run(DeviceUnderTest.Device, theta0, taus, g, c);
        foreach (var (other, name) in new[] { (b, $"{wide.GridWidth} CPU threads"), (d, DeviceUnderTest.Device.Name) })
        {
            AssertBitwise(other.Dots, a.Dots, $"dots, {name} vs {narrow.GridWidth}");
            AssertBitwise(other.Theta, a.Theta, $"theta, {name} vs {narrow.GridWidth}");
            AssertBitwise(other.Ties, a.Ties, $"TIES, {name} vs {narrow.GridWidth}");
            Assert.That(other.Signs, Is.EqualTo(a.Signs), $"signs, {name}");
        }
    }
}
