using Amalgam.Kernels.Merge;
using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// WUDI's Adam loop against a float64 re-implementation written here from the spec (the loss's
/// gradient sum_i 2/n_i (tau_m - tau_i) tau_i^T tau_i and PyTorch's Adam step), K = 3 small layers:
/// the result to 1e-5 relative to its norm and 1e-2 relative to how far Adam moved it, in both the
/// Gram form (n &lt;= 2 K m) and the row form (n &gt; 2 K m), over one and several row blocks; the final
/// loss against the float64 loss of the reference's result; with one task the gradient is zero and the
/// result stays that task; the same bits at 1 and 3 threads.
/// </summary>
public sealed class WudiMergeTests
{
    private static float[][] Taus(int t, int m, int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, t).Select(_ => Enumerable.Range(0, m * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
    }

    private static double[] Reference(float[][] taus, int m, int n, int steps, double lr)
    {
        int len = m * n;
        var tm = new double[len];
        foreach (var tau in taus) for (int j = 0; j < len; j++) tm[j] += tau[j];
        var norms = taus.Select(t => t.Sum(x => (double)x * x)).ToArray();
        var m1 = new double[len];
        var v = new double[len];
        for (int step = 1; step <= steps; step++)
        {
            var g = new double[len];
            for (int i = 0; i < taus.Length; i++)
            {
                var inner = new double[m * m];   // (tau_m - tau_i) tau_i^T
                for (int a = 0; a < m; a++)
                    for (int b = 0; b < m; b++)
                    {
                        double s = 0;
                        for (int c = 0; c < n; c++) s += (tm[a * n + c] - taus[i][a * n + c]) * taus[i][b * n + c];
                        inner[a * m + b] = s;
                    }
                for (int a = 0; a < m; a++)
                    for (int c = 0; c < n; c++)
                    {
                        double s = 0;
                        for (int b = 0; b < m; b++) s += inner[a * m + b] * taus[i][b * n + c];
                        g[a * n + c] += 2 / norms[i] * s;
                    }
            }
            double bc1 = 1 - Math.Pow(0.9, step), bc2 = 1 - Math.Pow(0.999, step);
            for (int j = 0; j < len; j++)
            {
                m1[j] = 0.9 * m1[j] + 0.1 * g[j];
                v[j] = 0.999 * v[j] + 0.001 * g[j] * g[j];
                tm[j] -= lr / bc1 * m1[j] / (Math.Sqrt(v[j]) / Math.Sqrt(bc2) + 1e-8);
            }
        }
        return tm;
    }

    private static double ReferenceLoss(float[][] taus, int m, int n, double[] tm)
    {
        double loss = 0;
        foreach (var tau in taus)
        {
            double norm = tau.Sum(x => (double)x * x), s = 0;
            for (int a = 0; a < m; a++)
                for (int b = 0; b < m; b++)
                {
                    double inner = 0;
                    for (int c = 0; c < n; c++) inner += (tm[a * n + c] - tau[a * n + c]) * tau[b * n + c];
                    s += inner * inner;
                }
            loss += s / norm;
        }
        return loss;
    }

    [TestCase(6, 5, 300, 1e-5)]      // Gram form, one block
    [TestCase(4, 9, 40, 1e-3)]       // Gram form
    [TestCase(2, 13, 60, 1e-3)]      // row form: 13 > 2 K m = 12
    [TestCase(70, 3, 30, 1e-3)]      // Gram form, two row blocks (64 + 6)
    [TestCase(67, 500, 20, 1e-4)]    // row form, two row blocks: 500 > 2 K m = 402
    public void AdamOnTheInterferenceLossMatchesFloat64(int m, int n, int steps, double lr)
    {
        var taus = Taus(3, m, n, seed: m * 13 + n);
        var got = new float[m * n];
        double loss = WudiMerge.Optimise(taus, m, n, steps, (float)lr, got);
        var want = Reference(taus, m, n, steps, lr);
        var start = Enumerable.Range(0, m * n).Select(j => taus.Sum(t => (double)t[j])).ToArray();
        double err = Math.Sqrt(got.Select((x, j) => (x - want[j]) * (x - want[j])).Sum());
        double norm = Math.Sqrt(want.Sum(x => x * x));
        double moved = Math.Sqrt(want.Select((x, j) => (x - start[j]) * (x - start[j])).Sum());
        TestContext.Out.WriteLine($"{m}x{n}, {steps} steps: |ours - f64| = {err:E2}, |f64| = {norm:E2}, moved {moved:E2}, loss {loss:G6}");
        Assert.That(err / norm, Is.LessThan(1e-5));
        Assert.That(err / moved, Is.LessThan(1e-2));   // f32 rounding of tau_m (|tau_m| ~ 6) over 300 steps of 1e-5 is ~1e-5 of 1.6e-2 moved
        double wantLoss = ReferenceLoss(taus, m, n, want);
        Assert.That(loss, Is.EqualTo(wantLoss).Within(1e-4 * wantLoss));
    }

    [Test]
    public void ATaskVectorOfZeroNormIsLeftOutOfTheLoss()
    {
        var taus = Taus(2, 5, 4, seed: 8).Append(new float[20]).ToArray();
        var withZero = new float[20];
        var without = new float[20];
        double a = WudiMerge.Optimise(taus, 5, 4, 50, 1e-3f, withZero);
        double b = WudiMerge.Optimise(taus[..2], 5, 4, 50, 1e-3f, without);
        Assert.That(withZero, Is.EqualTo(without));
        Assert.That(a, Is.EqualTo(b));
        Assert.That(withZero.All(float.IsFinite));
    }

    [TestCase(200, 48)]    // Gram form, four row blocks
    [TestCase(130, 900)]   // row form, three row blocks
    [TestCase(400, 2100)]  // Gram form (2100 <= 2 K m = 2400), blocks of 128 rows
    public void SameBitsAtAnyThreadCount(int m, int n)
    {
        var taus = Taus(3, m, n, seed: 5);
        var one = new float[m * n];
        var three = new float[m * n];
        double l1 = WudiMerge.Optimise(taus, m, n, 5, 1e-3f, one, threads: 1);
        double l3 = WudiMerge.Optimise(taus, m, n, 5, 1e-3f, three, threads: 3);
        Assert.That(three, Is.EqualTo(one));
        Assert.That(l3, Is.EqualTo(l1));
    }

    [Test]
    public void OneTaskStaysAtItsTaskVector()
    {
        var taus = Taus(1, 5, 7, seed: 4);
        var got = new float[35];
        double loss = WudiMerge.Optimise(taus, 5, 7, 300, 1e-3f, got);
        Assert.That(got, Is.EqualTo(taus[0]));
        Assert.That(loss, Is.Zero);
    }
}
