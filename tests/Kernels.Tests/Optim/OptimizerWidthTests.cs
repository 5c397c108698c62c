using Amalgam.Kernels.Optim;
using Amalgam.Kernels.Simd;
using static Amalgam.Kernels.Tests.Simd.VectorWidthCases;

namespace Amalgam.Kernels.Tests.Optim;

/// <summary>
/// Each vector width of <see cref="Adam.Step(Span{float}, ReadOnlySpan{float}, Span{float}, Span{float}, in AdamSettings, long)"/>
/// and <see cref="SgdMomentum.Step(Span{float}, ReadOnlySpan{float}, Span{float}, float, float, float)"/>, forced alone
/// over a whole parameter, must give exactly the bits of the scalar path (<see cref="VectorWidths.None"/>) in the
/// parameter and in every state buffer, over several steps.
/// </summary>
public class OptimizerWidthTests
{
    private static IEnumerable<TestCaseData> Cases() => from width in Widths from n in Lengths select new TestCaseData(width, n);

    [TestCaseSource(nameof(Cases))]
    public void AdamWidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 31 + 6);
        var settings = new[]
        {
            new AdamSettings(1e-3f),
            new AdamSettings(3e-2f, WeightDecay: 0.01f, DecoupledWeightDecay: true),
            new AdamSettings(3e-2f, WeightDecay: 0.01f, DecoupledWeightDecay: false),
        };
        foreach (var s in settings)
        {
            float[] p = Tile(rng, n), m = new float[n], v = new float[n];
            float[] p2 = (float[])p.Clone(), m2 = new float[n], v2 = new float[n];
            for (long step = 1; step <= 3; step++)
            {
                var g = Tile(rng, n, 0.5);
                Adam.Step(p, g, m, v, s, step, width);
                Adam.Step(p2, g, m2, v2, s, step, VectorWidths.None);
                string label = $"step {step}, wd {s.WeightDecay}, decoupled {s.DecoupledWeightDecay}";
                Assert.That(Bits(p), Is.EqualTo(Bits(p2)), "param, " + label);
                Assert.That(Bits(m), Is.EqualTo(Bits(m2)), "first moment, " + label);
                Assert.That(Bits(v), Is.EqualTo(Bits(v2)), "second moment, " + label);
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void SgdMomentumWidthBitIdenticalToScalar(string widthName, int n)
    {
        var width = RequireAccelerated(widthName);
        var rng = new System.Random(n * 37 + 7);
        foreach (float wd in new[] { 0f, 0.01f })
        {
            float[] p = Tile(rng, n), v = new float[n];
            float[] p2 = (float[])p.Clone(), v2 = new float[n];
            for (int step = 0; step < 3; step++)
            {
                var g = Tile(rng, n, 0.5);
                SgdMomentum.Step(p, g, v, 0.05f, 0.9f, wd, width);
                SgdMomentum.Step(p2, g, v2, 0.05f, 0.9f, wd, VectorWidths.None);
                Assert.That(Bits(p), Is.EqualTo(Bits(p2)), $"param, step {step}, wd {wd}");
                Assert.That(Bits(v), Is.EqualTo(Bits(v2)), $"velocity, step {step}, wd {wd}");
            }
        }
    }
}
