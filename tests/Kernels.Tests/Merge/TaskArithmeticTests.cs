using Amalgam.Kernels.Merge;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Merge.MergeTestData;

namespace Amalgam.Kernels.Tests.Merge;

public class TaskArithmeticTests
{
    private static IEnumerable<TestCaseData> Cases() =>
        from n in Lengths from k in new[] { 0, 1, 3, 8 } select new TestCaseData(n, k);

    [TestCaseSource(nameof(Cases))]
    public void MergeMatchesFloat64Formula(int n, int k)
    {
        var rng = new System.Random(n * 31 + k);
        var theta0 = Uniform(rng, n);
        var thetas = Enumerable.Range(0, k).Select(_ => Uniform(rng, n)).ToArray();
        var weights = Uniform(rng, k, 2);
        float lambda = 0.7f;
        var stacked = new float[n];
        TaskArithmetic.Merge(theta0, new TileSet(Stack(thetas), k, n), weights, lambda, stacked);
        var byPointer = new float[n];
        WithPointers(thetas, set => TaskArithmetic.Merge(theta0, k == 0 ? new TileSet([], 0, n) : set, weights, lambda, byPointer));
        for (int i = 0; i < n; i++)
        {
            double sum = 0, scale = Math.Abs(theta0[i]);
            for (int t = 0; t < k; t++)
            {
                double term = (double)weights[t] * ((double)thetas[t][i] - theta0[i]);
                sum += term;
                scale += Math.Abs(lambda * term);
            }
            double expected = theta0[i] + lambda * sum;
            Assert.That(stacked[i], Is.EqualTo(expected).Within(1e-6 * scale), $"element {i}");
        }
        Assert.That(byPointer, Is.EqualTo(stacked));
    }

    [TestCaseSource(nameof(Cases))]
    public void MergeDeltasMatchesFloat64Formula(int n, int k)
    {
        var rng = new System.Random(n * 17 + k);
        var theta0 = Uniform(rng, n);
        var taus = Enumerable.Range(0, k).Select(_ => Uniform(rng, n, 0.1)).ToArray();
        var weights = Uniform(rng, k, 2);
        var output = new float[n];
        TaskArithmetic.MergeDeltas(theta0, new TileSet(Stack(taus), k, n), weights, 1.3f, output);
        for (int i = 0; i < n; i++)
        {
            double sum = 0, scale = Math.Abs(theta0[i]);
            for (int t = 0; t < k; t++) { sum += (double)weights[t] * taus[t][i]; scale += Math.Abs(1.3 * weights[t] * taus[t][i]); }
            Assert.That(output[i], Is.EqualTo(theta0[i] + 1.3f * sum).Within(1e-6 * scale), $"element {i}");
        }
    }

    [TestCase(4099, 5)]
    [TestCase(1000, 8)]
    public void MergeTiledEqualsOneShotBitForBit(int n, int k)
    {
        var rng = new System.Random(n + k);
        var theta0 = Uniform(rng, n);
        var thetas = Enumerable.Range(0, k).Select(_ => Uniform(rng, n)).ToArray();
        var weights = Uniform(rng, k);
        var whole = new float[n];
        TaskArithmetic.Merge(theta0, new TileSet(Stack(thetas), k, n), weights, 0.9f, whole);
        var tiled = new float[n];
        foreach (var (s, len) in RandomSplits(n, k))
        {
            var tiles = new TileSet(Stack(thetas.Select(t => t[s..(s + len)]).ToArray()), k, len);
            TaskArithmetic.Merge(theta0.AsSpan(s, len), tiles, weights, 0.9f, tiled.AsSpan(s, len));
        }
        Assert.That(tiled.Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(whole.Select(BitConverter.SingleToUInt32Bits)));
    }

    [TestCaseSource(typeof(MergeTestData), nameof(Lengths))]
    public void SubtractIntoAndAddScaledMatchFloat64(int n)
    {
        var rng = new System.Random(n);
        var a = Uniform(rng, n);
        var b = Uniform(rng, n);
        var tau = new float[n];
        TaskArithmetic.SubtractInto(a, b, tau);
        var output = new float[n];
        TaskArithmetic.AddScaled(b, 0.3f, a, output);
        for (int i = 0; i < n; i++)
        {
            Assert.That(tau[i], Is.EqualTo((double)a[i] - b[i]).Within(1e-6 * (Math.Abs(a[i]) + Math.Abs(b[i]))));
            Assert.That(output[i], Is.EqualTo(b[i] + 0.3 * a[i]).Within(1e-6 * (Math.Abs(b[i]) + Math.Abs(0.3 * a[i]))));
        }
    }

    [Test]
    public void MismatchedShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => TaskArithmetic.Merge(new float[4], new TileSet(new float[8], 2, 4), new float[1], 1f, new float[4]));
        Assert.Throws<ArgumentException>(() => TaskArithmetic.Merge(new float[4], new TileSet(new float[8], 2, 4), new float[2], 1f, new float[3]));
        Assert.Throws<ArgumentException>(() => new TileSet(new float[7], 2, 4));
    }
}
