using NUnit.Framework;

namespace Amalgam.Kernels.Tests;

public class PartitionerTests
{
    private static readonly int[] ThreadCounts = [1, 2, 3, 8];
    private static readonly long[] Lengths = [0, 1, 2, 15, 16, 17, 63, 64, 65, 1000, 4096, 4097, 100_003];

    private static List<Chunk> RecordChunks(ChunkPlan plan, int threads)
    {
        var seen = new List<Chunk>();
        ParallelChunks.For(plan, c => { lock (seen) seen.Add(c); }, threads);
        return seen.OrderBy(c => c.Index).ToList();
    }

    [Test]
    public void EveryElementIsCoveredExactlyOnce()
    {
        foreach (long n in Lengths)
            foreach (long chunkBytes in new long[] { 1, 64, 100, 4096 })
                foreach (int threads in ThreadCounts)
                {
                    var plan = ChunkPlan.ForElementSize(n, 4, chunkBytes);
                    var hits = new int[n];
                    ParallelChunks.For(plan, c => { for (long i = c.Start; i < c.End; i++) Interlocked.Increment(ref hits[i]); }, threads);
                    Assert.That(hits, Is.All.EqualTo(1), $"n={n} chunkBytes={chunkBytes} threads={threads}");
                }
    }

    [Test]
    public void BoundariesDependOnlyOnLengthAndChunkSizeAndAreAligned()
    {
        foreach (long n in Lengths)
            foreach (int elementSize in new[] { 1, 2, 4, 8 })
            {
                var plan = ChunkPlan.ForElementSize(n, elementSize, chunkBytes: 200);
                List<Chunk> reference = RecordChunks(plan, 1);
                Assert.That(reference.Select(c => c.Index), Is.EqualTo(Enumerable.Range(0, plan.ChunkCount)));
                for (int i = 0; i < reference.Count; i++)
                {
                    Assert.That(reference[i].Start * elementSize % 64, Is.Zero, "chunk start not on a 64-byte boundary");
                    Assert.That(reference[i].Start, Is.EqualTo(i == 0 ? 0 : reference[i - 1].End));
                    Assert.That(reference[i].Length, Is.GreaterThan(0));
                }
                Assert.That(reference.Count == 0 ? 0 : reference[^1].End, Is.EqualTo(n));
                foreach (int threads in ThreadCounts)
                    Assert.That(RecordChunks(plan, threads), Is.EqualTo(reference), $"n={n} threads={threads}");
            }
    }

    [Test]
    public void ChunkSizeIsRoundedUpToWholeCacheLines()
    {
        Assert.That(ChunkPlan.ForElementSize(1000, 4, 1).ChunkElements, Is.EqualTo(16));
        Assert.That(ChunkPlan.ForElementSize(1000, 4, 65).ChunkElements, Is.EqualTo(32));
        Assert.That(ChunkPlan.ForElementSize(1000, 2, 128).ChunkElements, Is.EqualTo(64));
        Assert.That(ChunkPlan.For<double>(1000).ChunkElements, Is.EqualTo(ChunkPlan.DefaultChunkBytes / 8));
        Assert.That(new ChunkPlan(10, 3).ChunkCount, Is.EqualTo(4));
        Assert.That(new ChunkPlan(10, 3)[3], Is.EqualTo(new Chunk(3, 9, 10)));
        Assert.That(() => ChunkPlan.ForElementSize(10, 3), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void FloatSumReductionIsBitIdenticalAcrossThreadCounts()
    {
        var rng = new Random(11);
        // Magnitudes spread over many binades make float addition order-sensitive.
        float[] data = Enumerable.Range(0, 250_003).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.ScaleB(1, rng.Next(-10, 20)))).ToArray();
        var plan = ChunkPlan.For<float>(data.Length, chunkBytes: 4096);
        float ChunkSum(Chunk c) { float s = 0; for (long i = c.Start; i < c.End; i++) s += data[i]; return s; }

        // The defined result: chunk sums folded left to right, computed here sequentially.
        float expected = ChunkSum(plan[0]);
        for (int i = 1; i < plan.ChunkCount; i++) expected += ChunkSum(plan[i]);

        foreach (int threads in ThreadCounts)
            for (int repeat = 0; repeat < 3; repeat++)
            {
                float got = ParallelChunks.Reduce(plan, ChunkSum, (a, b) => a + b, 0f, threads);
                Assert.That(BitConverter.SingleToUInt32Bits(got), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected)), $"threads={threads}");
            }
        // Sanity: the chunked order really differs from a plain left-to-right sum for this data,
        // so the test above could have caught an order change.
        float plain = 0;
        foreach (float x in data) plain += x;
        Assert.That(plain, Is.Not.EqualTo(expected));
    }

    [Test]
    public void ReduceOfEmptyPlanReturnsEmptyValue()
    {
        Assert.That(ParallelChunks.Reduce(new ChunkPlan(0, 16), _ => 1.0, (a, b) => a + b, -5.0, 4), Is.EqualTo(-5.0));
    }

    [Test]
    public void ExceptionInABodyPropagatesUnwrapped()
    {
        var plan = new ChunkPlan(1000, 10);
        foreach (int threads in ThreadCounts)
            Assert.That(() => ParallelChunks.For(plan, c => { if (c.Index == 37) throw new BadInputException("chunk 37"); }, threads),
                Throws.TypeOf<BadInputException>().With.Message.EqualTo("chunk 37"));
    }

    [Test]
    public void MaxThreadsIsUsedByDefaultAndRejectsZero()
    {
        int saved = Parallelism.MaxThreads;
        try
        {
            Assert.That(saved, Is.EqualTo(Environment.ProcessorCount));
            Assert.That(() => Parallelism.MaxThreads = 0, Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => ParallelChunks.For(new ChunkPlan(8, 1), _ => { }, threads: -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Parallelism.MaxThreads = 1;
            var threadIds = new HashSet<int>();
            ParallelChunks.For(new ChunkPlan(64, 1), _ => { lock (threadIds) threadIds.Add(Environment.CurrentManagedThreadId); });
            Assert.That(threadIds, Is.EquivalentTo(new[] { Environment.CurrentManagedThreadId }));
        }
        finally
        {
            Parallelism.MaxThreads = saved;
        }
    }
}
