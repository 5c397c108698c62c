using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Simd;
using static Amalgam.Kernels.Tests.Simd.VectorWidthCases;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// Each vector width of the element-wise kernels (<see cref="Elementwise"/> with every <see cref="IElementwiseOp"/>,
/// <see cref="Dare"/>'s mask, and the bf16 kernels of <see cref="Bf16Merge"/>), forced alone over a whole input, must
/// give exactly the bits of the scalar path (<see cref="VectorWidths.None"/>).
/// </summary>
public class ElementwiseWidthTests
{
    private static IEnumerable<TestCaseData> Cases() => from width in Widths from n in Lengths select new TestCaseData(width, n);

    private static void Check<TOp>(VectorWidths width, float[] d, float[] a, float[] b, float w) where TOp : IElementwiseOp
    {
        float[] got = (float[])d.Clone(), want = (float[])d.Clone();
        Elementwise.Run<TOp>(got, a, b, w, width);
        Elementwise.Run<TOp>(want, a, b, w, VectorWidths.None);
        Assert.That(Bits(got), Is.EqualTo(Bits(want)), $"{typeof(TOp).Name}, w = {w}");
        // dest aliasing a (as Ties.TrimInPlace and TaskArithmetic's AddScaled do)
        float[] gotAlias = (float[])a.Clone(), wantAlias = (float[])a.Clone();
        Elementwise.Run<TOp>(gotAlias, gotAlias, b, w, width);
        Elementwise.Run<TOp>(wantAlias, wantAlias, b, w, VectorWidths.None);
        Assert.That(Bits(gotAlias), Is.EqualTo(Bits(wantAlias)), $"{typeof(TOp).Name}, w = {w}, dest = a");
    }

    [TestCaseSource(nameof(Cases))]
    public void ElementwiseOpsWidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 7 + 1);
        float[] d = Tile(rng, n), a = Tile(rng, n), b = Tile(rng, n);
        foreach (float w in new[] { 0.3f, -1.25f, 0f, -0f, float.PositiveInfinity, float.NaN })
        {
            Check<SubtractOp>(width, d, a, b, w);
            Check<WeightedDeltaOp>(width, d, a, b, w);
            Check<AccumulateWeightedDeltaOp>(width, d, a, b, w);
            Check<AddScaledOp>(width, d, a, b, w);
            Check<ScaleOp>(width, d, a, b, w);
            Check<AccumulateScaledOp>(width, d, a, b, w);
        }
        foreach (float threshold in new[] { 0f, 0.5f, 1f, float.Epsilon, float.PositiveInfinity, float.NaN })
        {
            Check<TrimOp>(width, d, a, b, threshold);
            Check<SubtractTrimOp>(width, d, a, b, threshold);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void DareMaskWidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 11 + 2);
        var tau = Tile(rng, n);
        var bits = Enumerable.Range(0, n).Select(_ => (uint)rng.NextInt64(0, 1L << 32)).ToArray();
        for (int j = 0; j < n; j += 5) bits[j] = j % 2 == 0 ? uint.MaxValue : 0u; // the extremes of the random words
        foreach (float dropRate in new[] { 0f, 0.1f, 0.5f, 0.9f, 1f })
            foreach (float scale in new[] { 1f, 1f / (1f - Math.Min(dropRate, 0.5f)), -0.7f, float.PositiveInfinity })
            {
                uint threshold = Dare.KeepThreshold(dropRate);
                float[] got = (float[])tau.Clone(), want = (float[])tau.Clone();
                Dare.ApplyMask(bits, threshold, scale, got, width);
                Dare.ApplyMask(bits, threshold, scale, want, VectorWidths.None);
                Assert.That(Bits(got), Is.EqualTo(Bits(want)), $"drop rate {dropRate}, scale {scale}");
            }
    }

    /// <summary>bf16 bit patterns near <paramref name="theta0"/>: copies, +-0, subnormals, small differences, +-inf, NaN.</summary>
    private static ushort[] Bf16Near(System.Random rng, float[] theta0) => theta0.Select(t => rng.Next(12) switch
    {
        0 => (ushort)(BitConverter.SingleToUInt32Bits(t) >> 16),
        1 => (ushort)(rng.Next(2) << 15),
        2 => (ushort)((rng.Next(2) << 15) | rng.Next(1, 128)),
        3 => (ushort)(rng.Next(2) == 0 ? 0x7F80 : 0xFF80),
        4 => (ushort)0xFFC0,
        _ => (ushort)(BitConverter.SingleToUInt32Bits(t + (float)((rng.NextDouble() * 2 - 1) * 0.1)) >> 16),
    }).ToArray();

    [TestCaseSource(nameof(Cases))]
    public unsafe void Bf16Kernels_WidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 19 + 3);
        var theta0 = Tile(rng, n);
        var bf = Enumerable.Range(0, 5).Select(_ => Bf16Near(rng, theta0)).ToArray();

        float[] got = new float[n], want = new float[n];
        Bf16Merge.Subtract(bf[0], theta0, got, width);
        Bf16Merge.Subtract(bf[0], theta0, want, VectorWidths.None);
        Assert.That(Bits(got), Is.EqualTo(Bits(want)), "Subtract");

        foreach (float threshold in new[] { 0f, 0.04f, float.Epsilon, float.NaN })
        {
            long keptGot = Bf16Merge.SubtractTrim(bf[1], theta0, threshold, got, width);
            long keptWant = Bf16Merge.SubtractTrim(bf[1], theta0, threshold, want, VectorWidths.None);
            Assert.That(Bits(got), Is.EqualTo(Bits(want)), $"SubtractTrim, threshold {threshold}");
            Assert.That(keptGot, Is.EqualTo(keptWant), $"SubtractTrim kept count, threshold {threshold}");
        }

        if (n == 0) return; // no tile to point at (the kernel rejects null tile pointers)
        fixed (ushort* p0 = bf[0], p1 = bf[1], p2 = bf[2], p3 = bf[3], p4 = bf[4])
        {
            nint[] pointers = [(nint)p0, (nint)p1, (nint)p2, (nint)p3, (nint)p4];
            foreach (int k in new[] { 1, 2, 5 })
            {
                var weights = Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 0.5)).ToArray();
                Bf16Merge.TaskArithmeticMerge(theta0, pointers.AsSpan(0, k), weights, 0.3f, got, width);
                Bf16Merge.TaskArithmeticMerge(theta0, pointers.AsSpan(0, k), weights, 0.3f, want, VectorWidths.None);
                Assert.That(Bits(got), Is.EqualTo(Bits(want)), $"TaskArithmeticMerge, {k} tasks");
            }
        }
    }
}
