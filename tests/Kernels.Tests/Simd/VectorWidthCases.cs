using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Tests.Simd;

/// <summary>
/// Shared pieces of the width tests: the paths to force (by name, since <see cref="VectorWidths"/> is internal), the
/// check that a forced width is accelerated here (else the test is ignored, not passed), bit patterns, and inputs
/// with +-inf, NaN, -0, exact grid values and rounding values.
/// </summary>
internal static class VectorWidthCases
{
    /// <summary>One width alone (then the scalar tail), the scalar path alone, or the production cascade.</summary>
    public static readonly string[] Widths =
        [nameof(VectorWidths.W512), nameof(VectorWidths.W256), nameof(VectorWidths.W128), nameof(VectorWidths.None), nameof(VectorWidths.All)];

    /// <summary>Lengths that are no multiple of 4, 8, 16 or 32 (and a few that are), so every tail runs.</summary>
    public static readonly int[] Lengths = [0, 1, 3, 7, 15, 31, 64, 1000, 4099];

    public static VectorWidths RequireAccelerated(string name)
    {
        var width = Enum.Parse<VectorWidths>(name);
        bool accelerated = width switch
        {
            VectorWidths.W512 => Vector512.IsHardwareAccelerated,
            VectorWidths.W256 => Vector256.IsHardwareAccelerated,
            VectorWidths.W128 => Vector128.IsHardwareAccelerated,
            _ => true,
        };
        if (!accelerated) Assert.Ignore($"{width} is not hardware accelerated on this machine; its path cannot run here.");
        return width;
    }

    public static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>Grid values (zeros, ties, exact sums), rounding values, and a few +-inf, NaN and -0.</summary>
    public static float[] Tile(System.Random rng, int n, double scale = 1.7) => Enumerable.Range(0, n).Select(_ => rng.Next(40) switch
    {
        0 => float.PositiveInfinity,
        1 => float.NegativeInfinity,
        2 => float.NaN,
        3 => -0f,
        4 => 0f,
        < 20 => rng.Next(-8, 9) * 0.25f,
        _ => (float)((rng.NextDouble() * 2 - 1) * scale),
    }).ToArray();
}
