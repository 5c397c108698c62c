using Amalgam.Kernels.Device;

namespace Amalgam.Kernels.Tests.Device;

/// <summary>
/// One accelerator for every device test: ILGPU's CPU accelerator, or the device named by
/// AMALGAM_DEVICE_TESTS (<c>cuda</c>, <c>cuda:N</c>) so a GPU machine runs the same checks on CUDA.
/// </summary>
[SetUpFixture]
public sealed class DeviceUnderTest
{
    public const string Variable = "AMALGAM_DEVICE_TESTS";

    private static DeviceContext? s_device;

    public static DeviceContext Device => s_device ?? throw new InvalidOperationException("no device under test");

    /// <summary>What the tests run on: <c>cpu</c> unless AMALGAM_DEVICE_TESTS says otherwise.</summary>
    public static string Requested => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v.Trim() : "cpu";

    public static bool OnCuda => Requested.StartsWith("cuda", StringComparison.OrdinalIgnoreCase);

    [OneTimeSetUp]
    public void Start()
    {
        s_device = DeviceContext.Create(Requested);
        TestContext.Progress.WriteLine($"device tests on {s_device.Name} ({s_device.Accelerator.Name}, grid width {s_device.GridWidth})");
    }

    [OneTimeTearDown]
    public void Stop()
    {
        s_device?.Dispose();
        s_device = null;
    }
}

internal static class DeviceData
{
    public static float[] Uniform(System.Random rng, long n, double scale = 1)
    {
        var x = new float[n];
        for (long i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return x;
    }

    /// <summary>Multiples of 1/4 in [-2, 2]: zeros, ties and exact cancellations are common.</summary>
    public static float[] Grid(System.Random rng, long n)
    {
        var x = new float[n];
        for (long i = 0; i < n; i++) x[i] = rng.Next(-8, 9) * 0.25f;
        return x;
    }

    /// <summary>The same bits everywhere (any NaN matches any NaN: CUDA writes the canonical NaN).</summary>
    public static void AssertBitwise(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        int mismatches = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            bool same = float.IsNaN(expected[i]) ? float.IsNaN(actual[i]) : BitConverter.SingleToInt32Bits(actual[i]) == BitConverter.SingleToInt32Bits(expected[i]);
            if (!same && mismatches++ == 0) first = i;
        }
        if (mismatches > 0)
            Assert.Fail($"{what}: {mismatches} of {expected.Length} differ; first [{first}]: {actual[first]:R} (0x{BitConverter.SingleToInt32Bits(actual[first]):x8}) vs {expected[first]:R} (0x{BitConverter.SingleToInt32Bits(expected[first]):x8})");
    }

    public static void AssertBitwise(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        for (int i = 0; i < expected.Length; i++)
            Assert.That(BitConverter.DoubleToInt64Bits(actual[i]), Is.EqualTo(BitConverter.DoubleToInt64Bits(expected[i])), $"{what}[{i}]: {actual[i]:R} vs {expected[i]:R}");
    }

    /// <summary>|actual - expected| &lt;= rel |expected| for every entry.</summary>
    public static void AssertRelative(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, double rel, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what + ": length");
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i]).Within(rel * Math.Abs(expected[i])), $"{what}[{i}]");
    }
}
