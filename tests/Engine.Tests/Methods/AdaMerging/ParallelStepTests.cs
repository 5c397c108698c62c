using System.Collections.Concurrent;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// A step's (task, batch) gradient runs on several workers: the ordered-commit pipeline commits in
/// job order whatever the worker count and timing, and a trainer with two workers takes the same
/// steps to the bit as one with a single worker.
/// </summary>
public sealed class ParallelStepTests
{
    private static T WithThreads<T>(int threads, Func<T> f)
    {
        int old = Parallelism.MaxThreads;
        Parallelism.MaxThreads = threads;
        try { return f(); }
        finally { Parallelism.MaxThreads = old; }
    }

    /// <summary>What a few steps leave behind: coefficients, moments, losses and one more gradient.</summary>
    internal sealed record Trace(float[] Raw, float[] First, float[] Second, double[] Losses, double[] Gradient)
    {
        /// <summary>The same bits in every field.</summary>
        public void AssertSameBits(Trace other)
        {
            Assert.That(other.Losses, Is.EqualTo(Losses));
            Assert.That(other.Raw, Is.EqualTo(Raw));
            Assert.That(other.First, Is.EqualTo(First));
            Assert.That(other.Second, Is.EqualTo(Second));
            Assert.That(other.Gradient, Is.EqualTo(Gradient));
        }
    }

    /// <summary>Five Adam steps of a trainer built and run at <paramref name="threads"/>, then one more gradient.</summary>
    private static Trace Train(int threads, Granularity granularity) => WithThreads(threads, () =>
    {
        using var problem = AdaMergingFixture.Open();
        using var trainer = AdaMergingTrainer.Create(problem, AdaMergingFixture.Data,
            AdaMergingFixture.Options(granularity, steps: 5, shuffle: true), seed: 7);
        for (int s = 0; s < 5; s++) trainer.Step();
        var gradient = new double[trainer.Raw.Length];
        trainer.Evaluate(trainer.StepsDone, gradient);
        return new Trace(trainer.Raw, trainer.FirstMoment, trainer.SecondMoment, trainer.Losses.ToArray(), gradient);
    });

    [TestCase(Granularity.Layer)]
    [TestCase(Granularity.Task)]
    public void TwoWorkersTakeTheSameStepsAsOne(Granularity granularity)
    {
        Assert.That(AdaMergingFixture.Options(granularity).BatchesPerStep, Is.EqualTo(2), "several batches per task");
        var one = Train(1, granularity);
        var two = Train(2, granularity);
        Assert.That(one.Losses, Has.Length.EqualTo(5));
        Assert.That(one.Losses.Distinct().Count(), Is.EqualTo(5), "steps see different batches");
        Assert.That(one.Gradient.Count(g => g != 0), Is.GreaterThan(one.Gradient.Length / 2), "a gradient worth comparing");
        one.AssertSameBits(two);
    }

    [Test]
    public void TrainerBuiltForTwoWorkersGivesTheSameGradientWhenRunOnOne()
    {
        using var problem = AdaMergingFixture.Open();
        using var trainer = WithThreads(2, () => AdaMergingTrainer.Create(problem, AdaMergingFixture.Data, AdaMergingFixture.Options(Granularity.Layer), seed: 0));
        var rng = new Random(9);
        for (int i = 0; i < trainer.Raw.Length; i++) trainer.Raw[i] = (float)(0.1 + 0.8 * rng.NextDouble());
        var one = new double[trainer.Raw.Length];
        var two = new double[trainer.Raw.Length];
        double lossOne = WithThreads(1, () => trainer.Evaluate(3, one));
        double lossTwo = WithThreads(2, () => trainer.Evaluate(3, two));
        Assert.That(lossTwo, Is.EqualTo(lossOne));
        Assert.That(two, Is.EqualTo(one));
        Assert.That(one.Max(Math.Abs), Is.GreaterThan(0));
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(4)]
    public void CommitsComeInJobOrderAndNoWorkerRunsTwoJobsAtOnce(int workers)
    {
        const int Jobs = 40;
        var busy = new int[workers];
        var ranOn = new int[Jobs];
        var commits = new List<(int Worker, int Job)>();
        var rng = new ConcurrentDictionary<int, Random>();
        OrderedRuns.Run(Jobs, workers,
            (w, j) =>
            {
                Assert.That(Interlocked.Exchange(ref busy[w], 1), Is.Zero, $"worker {w} already busy");
                Thread.Sleep(rng.GetOrAdd(w, s => new Random(s)).Next(3)); // uneven job times reorder the finishes
                ranOn[j] = w;
                Volatile.Write(ref busy[w], 0);
            },
            (w, j) => commits.Add((w, j))); // commits never overlap, so a plain list suffices
        Assert.That(commits.Select(c => c.Job), Is.EqualTo(Enumerable.Range(0, Jobs)));
        Assert.That(commits.Select(c => c.Worker), Is.EqualTo(ranOn), "each job commits on the worker that ran it");
        Assert.That(ranOn, Is.All.InRange(0, workers - 1));
    }

    [Test]
    public void AFailingJobStopsThePipelineAndIsRethrownAsItself()
    {
        var commits = new List<int>();
        var e = Assert.Throws<InvalidDataException>(() => OrderedRuns.Run(50, 2,
            (w, j) =>
            {
                if (j == 5) throw new InvalidDataException("job 5");
            },
            (w, j) => commits.Add(j)));
        Assert.That(e!.Message, Is.EqualTo("job 5"));
        Assert.That(commits, Is.EqualTo(Enumerable.Range(0, commits.Count)), "a prefix, in order");
        Assert.That(commits.Count, Is.LessThanOrEqualTo(5), "nothing after the failed job commits");
    }
}
