using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// The fused kernels on tensors large enough to run in parallel (&gt; 1M elements): against float64
/// formulas written here, and bit-identical at 1 and 2 worker threads.
/// </summary>
public sealed class KernelTests
{
    private const int K = 5; // one group of four tasks in the reduction, then one alone
    private static readonly long[] Lengths = [700_001, 600_003, 5];

    private static TaskVectorStore Random(int seed)
    {
        var rng = new Random(seed);
        var theta0 = new List<Tensor>();
        var taus = new List<Tensor>();
        foreach (long n in Lengths)
        {
            var t0 = Tensor.Allocate("t" + n, DType.F32, [n]);
            var tau = Tensor.Allocate("t" + n + ".tau", DType.F32, [K, n]);
            foreach (ref float x in t0.Write<float>()) x = (float)(rng.NextDouble() - 0.5);
            foreach (ref float x in tau.Write<float>()) x = (float)(0.1 * (rng.NextDouble() - 0.5));
            theta0.Add(t0);
            taus.Add(tau);
        }
        return TaskVectorStore.FromTensors(Lengths.Select(n => "t" + n).ToArray(), theta0, taus, K);
    }

    private static T WithThreads<T>(int threads, Func<T> f)
    {
        int old = Parallelism.MaxThreads;
        Parallelism.MaxThreads = threads;
        try { return f(); }
        finally { Parallelism.MaxThreads = old; }
    }

    private static float[][] Merge(TaskVectorStore tv, float[] clamped)
    {
        var outputs = Lengths.Select(n => Tensor.Allocate("o", DType.F32, [n])).ToArray();
        ThetaWriter.Run(tv, tv.Slices, clamped, outputs);
        var values = outputs.Select(o => o.Read<float>().ToArray()).ToArray();
        foreach (var o in outputs) o.Dispose();
        return values;
    }

    [TestCase(false)]
    [TestCase(true)]
    public void ThetaWriterIsTheFormulaAtAnyThreadCount(bool equal)
    {
        using var tv = Random(1);
        float[] c = Enumerable.Range(0, Lengths.Length * K).Select(i => equal ? 0.3f : 0.1f + 0.07f * i).ToArray();
        var one = WithThreads(1, () => Merge(tv, c));
        var two = WithThreads(2, () => Merge(tv, c));
        for (int l = 0; l < Lengths.Length; l++)
        {
            Assert.That(two[l], Is.EqualTo(one[l]), $"tensor {l}: threads");
            var t0 = tv.Theta0[l].Read<float>();
            var tau = tv.Taus[l].Read<float>();
            long n = Lengths[l];
            for (long i = 0; i < n; i += 997)
            {
                double expected = t0[(int)i];
                for (int t = 0; t < K; t++) expected += (double)c[l * K + t] * tau[(int)(t * n + i)];
                Assert.That(one[l][i], Is.EqualTo(expected).Within(1e-6), $"tensor {l}[{i}]");
                if (equal) // TIES' finish: theta0 + c * ((0 + tau_0) + tau_1 + ...) in f32, exactly
                {
                    float acc = 0f;
                    for (int t = 0; t < K; t++) acc += tau[(int)(t * n + i)];
                    Assert.That(one[l][i], Is.EqualTo(t0[(int)i] + c[0] * acc));
                }
            }
        }
    }

    [Test]
    public unsafe void ReductionIsTheFloat64DotProductAtAnyThreadCount()
    {
        using var tv = Random(2);
        var rng = new Random(3);
        var grads = Lengths.Select(n => Tensor.Allocate("g", DType.F32, [n])).ToArray();
        var sums = Lengths.Select(n => Tensor.Allocate("s", DType.F32, [n])).ToArray();
        try
        {
            foreach (var g in grads)
                foreach (ref float x in g.Write<float>()) x = (float)(rng.NextDouble() - 0.5);
            double[] Run()
            {
                GradientReduction.Accumulate(tv, grads, sums, first: true, GradientReduction.Workers(tv));
                GradientReduction.Accumulate(tv, grads, sums, first: false, GradientReduction.Workers(tv)); // sums = 2 g exactly
                return GradientReduction.Reduce(tv, sums);
            }
            var one = WithThreads(1, Run);
            var two = WithThreads(2, Run);
            Assert.That(two, Is.EqualTo(one));
            for (int l = 0; l < Lengths.Length; l++)
            {
                var g = grads[l].Read<float>().ToArray();
                var tau = tv.Taus[l].Read<float>().ToArray();
                for (int t = 0; t < K; t++)
                {
                    double expected = 0;
                    for (long i = 0; i < Lengths[l]; i++) expected += 2.0 * g[i] * tau[t * Lengths[l] + i];
                    Assert.That(one[l * K + t], Is.EqualTo(expected).Within(1e-9 * Math.Max(1, Math.Abs(expected))), $"tensor {l}, task {t}");
                }
            }
        }
        finally
        {
            foreach (var t in grads.Concat(sums)) t.Dispose();
        }
    }
}
