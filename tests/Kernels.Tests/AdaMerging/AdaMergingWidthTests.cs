using Amalgam.Kernels.AdaMerging;
using Amalgam.Kernels.Simd;
using static Amalgam.Kernels.Tests.Simd.VectorWidthCases;

namespace Amalgam.Kernels.Tests.AdaMerging;

/// <summary>
/// Each vector width of <see cref="ThetaCombine.Combine(float*, float*, long, int, float*, float*, int)"/> (both forms:
/// equal and distinct coefficients) and <see cref="GradientSums.AddInPlace(float*, float*, int)"/>, forced alone over a
/// whole slice, must give exactly the bits of the scalar path (<see cref="VectorWidths.None"/>).
/// </summary>
public unsafe class AdaMergingWidthTests
{
    private static IEnumerable<TestCaseData> Cases() => from width in Widths from n in Lengths select new TestCaseData(width, n);

    [TestCaseSource(nameof(Cases))]
    public void ThetaCombineWidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 23 + 4);
        var theta0 = Tile(rng, n);
        const int maxK = 6;
        int stride = n + 3; // task vectors in one buffer, not packed
        var taus = new float[maxK * stride];
        for (int t = 0; t < maxK; t++) Tile(rng, n, 0.05).CopyTo(taus, t * stride);
        var coefficientSets = new[]
        {
            new[] { 0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f }, // equal: theta0 + c * sum
            new[] { 0.3f, -0.2f, 1.1f, 0f, -0f, 0.7f },   // distinct: theta0 + sum c_k tau_k
            new[] { -0f, -0f, -0f, -0f, -0f, -0f },
            new[] { float.NaN, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f },
        };
        fixed (float* t0 = theta0, tp = taus)
            foreach (var c in coefficientSets)
                foreach (int k in new[] { 0, 1, 2, maxK })
                {
                    float[] got = new float[n], want = new float[n];
                    fixed (float* cp = c, g = got, w = want)
                    {
                        ThetaCombine.Combine(t0, tp, stride, k, cp, g, n, width);
                        ThetaCombine.Combine(t0, tp, stride, k, cp, w, n, VectorWidths.None);
                    }
                    Assert.That(Bits(got), Is.EqualTo(Bits(want)), $"{k} tasks, c = {string.Join(' ', c)}");
                }
    }

    [TestCaseSource(nameof(Cases))]
    public void AddInPlaceWidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 29 + 5);
        float[] sum = Tile(rng, n), g = Tile(rng, n);
        float[] got = (float[])sum.Clone(), want = (float[])sum.Clone();
        fixed (float* gp = g, a = got, b = want)
        {
            GradientSums.AddInPlace(a, gp, n, width);
            GradientSums.AddInPlace(b, gp, n, VectorWidths.None);
        }
        Assert.That(Bits(got), Is.EqualTo(Bits(want)));
    }
}
