using Amalgam.Kernels.Device;
using Amalgam.Kernels.Optim;
using static Amalgam.Kernels.Tests.Device.DeviceData;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>The device Adam against <see cref="Adam.Step"/> (all its SIMD widths and the scalar tail), bit for bit.</summary>
public sealed class AdamDeviceTests
{
    private static DeviceContext Device => DeviceUnderTest.Device;

    [TestCase(true, 0.01f)]
    [TestCase(false, 0.1f)]
    [TestCase(true, 0f)]
    public void AdamStepIsAdamStepBitwise(bool decoupled, float weightDecay)
    {
        const int n = 10_003; // not a multiple of any vector width
        var rng = new System.Random(decoupled ? 1 : 2);
        float[] p = Uniform(rng, n), m = new float[n], v = new float[n];
        var settings = new AdamSettings(LearningRate: 1e-2f, WeightDecay: weightDecay, DecoupledWeightDecay: decoupled);
        using var dp = Device.Upload<float>(p);
        using var dm = Device.Upload<float>(m);
        using var dv = Device.Upload<float>(v);
        for (long step = 1; step <= 3; step++)
        {
            float[] g = Uniform(rng, n, step);
            for (int i = 0; i < n; i += 101) g[i] = (float)(g[i] * 1e-21); // g * g under float's normal range
            g[7] = 0f;
            Adam.Step(p, g, m, v, settings, step);
            using var dg = Device.Upload<float>(g);
            AdamStep.Run(Device, dp.View, dg.View, dm.View, dv.View, settings, step);
            AssertBitwise(Device.Download(dp), p, $"param after step {step}");
            AssertBitwise(Device.Download(dm), m, $"first moment after step {step}");
            AssertBitwise(Device.Download(dv), v, $"second moment after step {step}");
        }
    }
}
