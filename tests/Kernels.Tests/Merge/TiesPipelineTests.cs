using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Selection;
using NUnit.Framework;
using static Amalgam.Kernels.Tests.Merge.MergeTestData;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// TIES with global trim and majority zero sign over a small multi-tensor "model", run the way the
/// executor will (tensors streamed in tiles: histogram pass, refine pass, sign-count pass, merge
/// pass), against the spec computed directly in float64 with a full sort.
/// </summary>
public class TiesPipelineTests
{
    [TestCase(0.3, TiesMergeMode.Mean)]
    [TestCase(0.05, TiesMergeMode.Sum)]
    [TestCase(1.0, TiesMergeMode.Max)]
    public void GlobalTrimMajoritySignMatchesSpecInFloat64(double density, TiesMergeMode mode)
    {
        int[] sizes = [1000, 4099, 17];
        const int tasks = 3;
        const float lambda = 0.5f;
        var rng = new System.Random(17);
        // Grid values: task vectors and their sums are exact, and ties at the threshold are common.
        var theta0 = sizes.Select(n => Grid(rng, n)).ToArray();
        var thetas = Enumerable.Range(0, tasks).Select(_ => sizes.Select(n => Grid(rng, n)).ToArray()).ToArray();
        long total = sizes.Sum();
        long keep = Math.Max(1, (long)(density * total));
        const int tile = 300;

        // Pass 1+2 per task: exact global threshold from the streamed histogram.
        var thresholds = new float[tasks];
        for (int k = 0; k < tasks; k++)
        {
            var histogram = new MagnitudeHistogram();
            ForEachTile(sizes, tile, (t, s, len) => histogram.Add(Tau(thetas[k][t], theta0[t], s, len)));
            var refinement = histogram.Refine(keep);
            ForEachTile(sizes, tile, (t, s, len) => refinement.Add(Tau(thetas[k][t], theta0[t], s, len)));
            thresholds[k] = refinement.KthLargest(keep);
        }
        // Pass 3: sum of elected signs over the model; pass 4: merge.
        long signSum = 0;
        ForEachTile(sizes, tile, (t, s, len) => signSum += Ties.ElectSign(Trimmed(thetas, theta0, thresholds, t, s, len, out _), [], new float[len]));
        float zeroSign = signSum >= 0 ? 1f : -1f;
        var result = sizes.Select(n => new float[n]).ToArray();
        ForEachTile(sizes, tile, (t, s, len) =>
        {
            var set = Trimmed(thetas, theta0, thresholds, t, s, len, out _);
            var gamma = new float[len];
            Ties.ElectSign(set, [], gamma);
            var merged = result[t].AsSpan(s, len);
            Ties.DisjointMerge(set, [], gamma, zeroSign, mode, merged);
            TaskArithmetic.AddScaled(theta0[t].AsSpan(s, len), lambda, merged, merged);
        });

        // The spec in float64.
        var refThreshold = new double[tasks];
        for (int k = 0; k < tasks; k++)
            refThreshold[k] = Enumerable.Range(0, sizes.Length).SelectMany(t => thetas[k][t].Select((v, i) => Math.Abs((double)v - theta0[t][i])))
                .OrderByDescending(a => a).ElementAt((int)keep - 1);
        double Trim(int k, int t, int i) { double d = (double)thetas[k][t][i] - theta0[t][i]; return Math.Abs(d) >= refThreshold[k] ? d : 0; }
        long refSignSum = 0;
        for (int t = 0; t < sizes.Length; t++)
            for (int i = 0; i < sizes[t]; i++) refSignSum += Math.Sign(Enumerable.Range(0, tasks).Sum(k => Trim(k, t, i)));
        int majority = refSignSum >= 0 ? 1 : -1;
        for (int t = 0; t < sizes.Length; t++)
            for (int i = 0; i < sizes[t]; i++)
            {
                double sum = Enumerable.Range(0, tasks).Sum(k => Trim(k, t, i));
                int g = sum == 0 ? majority : Math.Sign(sum);
                var agreeing = Enumerable.Range(0, tasks).Select(k => Trim(k, t, i)).Where(v => v != 0 && Math.Sign(v) == g).ToArray();
                double merged = mode switch
                {
                    TiesMergeMode.Sum => agreeing.Sum(),
                    TiesMergeMode.Mean => agreeing.Sum() / Math.Max(1, agreeing.Length),
                    _ => g * agreeing.Select(Math.Abs).DefaultIfEmpty(0).Max(),
                };
                double expected = theta0[t][i] + lambda * merged;
                Assert.That(result[t][i], Is.EqualTo(expected).Within(1e-6 * (Math.Abs(theta0[t][i]) + Math.Abs(merged))), $"tensor {t}, element {i}");
            }
        Assert.That(thresholds.Select(v => (double)v), Is.EqualTo(refThreshold));
        Assert.That(signSum, Is.EqualTo(refSignSum));
    }

    private delegate void TileAction(int tensor, int start, int length);

    private static void ForEachTile(int[] sizes, int tile, TileAction action)
    {
        for (int t = 0; t < sizes.Length; t++)
            for (int s = 0; s < sizes[t]; s += tile) action(t, s, Math.Min(tile, sizes[t] - s));
    }

    private static float[] Tau(float[] theta, float[] theta0, int start, int length)
    {
        var tau = new float[length];
        TaskArithmetic.SubtractInto(theta.AsSpan(start, length), theta0.AsSpan(start, length), tau);
        return tau;
    }

    private static TileSet Trimmed(float[][][] thetas, float[][] theta0, float[] thresholds, int t, int s, int len, out float[] stacked)
    {
        stacked = new float[thetas.Length * len];
        for (int k = 0; k < thetas.Length; k++)
            Ties.SubtractTrim(thetas[k][t].AsSpan(s, len), theta0[t].AsSpan(s, len), thresholds[k], stacked.AsSpan(k * len, len));
        return new TileSet(stacked, thetas.Length, len);
    }
}
