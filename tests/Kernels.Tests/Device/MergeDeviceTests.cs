using Amalgam.Kernels.Device;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Selection;
using static Amalgam.Kernels.Tests.Device.DeviceData;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>The streaming merge kernels (task arithmetic, TIES) against the SIMD tile kernels, bit for bit.</summary>
public sealed class MergeDeviceTests
{
    private const int N = 50_001; // not a multiple of any vector width

    private static DeviceContext Device => DeviceUnderTest.Device;

    private static float[][] Tasks(System.Random rng, int k, float[] theta0, bool grid) =>
        Enumerable.Range(0, k).Select(_ =>
        {
            float[] delta = grid ? Grid(rng, theta0.Length) : Uniform(rng, theta0.Length, 0.1);
            return theta0.Zip(delta, (a, d) => a + d).ToArray();
        }).ToArray();

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(3)]
    public void TaskArithmeticIsTheTileKernelBitwise(int k)
    {
        var rng = new System.Random(100 + k);
        float[] theta0 = Uniform(rng, N);
        float[][] thetas = Tasks(rng, k, theta0, grid: false);
        float[] weights = Enumerable.Range(0, k).Select(_ => (float)(0.2 + rng.NextDouble())).ToArray();
        const float lambda = 0.7f;
        float[] expected = new float[N];
        TaskArithmetic.Merge(theta0, new TileSet(Stack(thetas), k, N), weights, lambda, expected);
        float[][] taus = thetas.Select(t => t.Zip(theta0, (a, b) => a - b).ToArray()).ToArray();
        float[] expectedDeltas = new float[N];
        TaskArithmetic.MergeDeltas(theta0, new TileSet(Stack(taus), k, N), weights, lambda, expectedDeltas);

        using var d0 = Device.Upload<float>(theta0);
        using var dThetas = Device.Upload<float>(Stack(thetas));
        using var dTaus = Device.Upload<float>(Stack(taus));
        using var dw = Device.Upload<float>(weights);
        using var output = Device.Allocate<float>(N);
        TaskArithmeticMerge.Merge(Device, d0.View, dThetas.View, dw.View, lambda, output.View);
        AssertBitwise(Device.Download(output), expected, $"task arithmetic from models, K = {k}");
        TaskArithmeticMerge.MergeDeltas(Device, d0.View, dTaus.View, dw.View, lambda, output.View);
        AssertBitwise(Device.Download(output), expectedDeltas, $"task arithmetic from task vectors, K = {k}");
    }

    [TestCase(1, false)]
    [TestCase(3, false)]
    [TestCase(3, true)]
    public void TiesIsTheTileKernelsBitwise(int k, bool grid)
    {
        var rng = new System.Random(200 + k + (grid ? 10 : 0));
        float[] theta0 = Uniform(rng, N);
        float[][] thetas = Tasks(rng, k, theta0, grid);
        // Global-scope thresholds as the host computes them: the keep-th largest |tau_k| (density 0.3).
        float[] thresholds = thetas.Select(t =>
        {
            float[] tau = t.Zip(theta0, (a, b) => a - b).ToArray();
            return MagnitudeSelect.KthLargest(tau, Ties.KeepCount(N, 0.3));
        }).ToArray();
        float[][] trimmed = thetas.Select((t, i) =>
        {
            var tau = new float[N];
            Ties.SubtractTrim(t, theta0, thresholds[i], tau);
            return tau;
        }).ToArray();
        float[] weights = Enumerable.Range(0, k).Select(i => i == 0 ? 1f : (float)(0.5 + rng.NextDouble())).ToArray();
        var trimmedSet = new TileSet(Stack(trimmed), k, N);

        using var d0 = Device.Upload<float>(theta0);
        using var dThetas = Device.Upload<float>(Stack(thetas));
        using var dThresholds = Device.Upload<float>(thresholds);
        using var dTrimmed = Device.Allocate<float>((long)k * N);
        using var dw = Device.Upload<float>(weights);
        TiesTrim.SubtractTrim(Device, dThetas.View, d0.View, dThresholds.View, dTrimmed.View);
        AssertBitwise(Device.Download(dTrimmed), Stack(trimmed), "subtract and trim");

        float[][] taus = thetas.Select(t => t.Zip(theta0, (a, b) => a - b).ToArray()).ToArray();
        using var dTaus = Device.Upload<float>(Stack(taus));
        TiesTrim.TrimInPlace(Device, dTaus.View, dThresholds.View);
        for (int t = 0; t < k; t++) Ties.TrimInPlace(taus[t], thresholds[t]);
        AssertBitwise(Device.Download(dTaus), Stack(taus), "trim in place");

        long signSum = Ties.ElectSign(trimmedSet, weights, new float[N]);
        Assert.That(TiesSignSum.Run(Device, dTrimmed.View, dw.View), Is.EqualTo(signSum), "sum of elected signs");

        using var output = Device.Allocate<float>(N);
        foreach (var mode in Enum.GetValues<TiesMergeMode>())
            foreach (float zeroSign in new[] { 1f, -1f })
            {
                float[] expected = new float[N];
                Ties.ElectMergeAddScaled(trimmedSet, weights, zeroSign, mode, theta0, 0.9f, expected);
                TiesMerge.Run(Device, dTrimmed.View, dw.View, zeroSign, mode, d0.View, 0.9f, output.View);
                AssertBitwise(Device.Download(output), expected, $"TIES {mode}, zero sign {zeroSign}, K = {k}");
            }
    }

    private static float[] Stack(float[][] tiles) => tiles.SelectMany(t => t).ToArray();
}
