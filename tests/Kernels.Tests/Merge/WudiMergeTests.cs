using Amalgam.Kernels.Merge;
using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// WUDI's Adam loop against a float64 re-implementation written here from the spec (the loss's
/// gradient sum_i 2/n_i (tau_m - tau_i) tau_i^T tau_i and PyTorch's Adam step), K = 3 small layers:
/// the result to 1e-5 relative to its norm and 1e-2 relative to how far Adam moved it; with one task
/// the gradient is zero and the result stays that task.
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

    [TestCase(6, 5, 300, 1e-5)]
    [TestCase(4, 9, 40, 1e-3)]
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
        Assert.That(loss, Is.GreaterThan(0));
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
