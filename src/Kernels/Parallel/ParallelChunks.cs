using System.Buffers;
using System.Runtime.ExceptionServices;

namespace Amalgam.Kernels;

/// <summary>
/// Runs the chunks of a <see cref="ChunkPlan"/> on up to N workers. Workers take the next chunk
/// index from a shared counter (so fast workers take more), but the work done for a chunk depends
/// only on its boundaries; <see cref="Reduce{T}"/> combines per-chunk results in chunk order, so a
/// float sum is the same to the bit at 1 or 64 threads.
/// </summary>
public static class ParallelChunks
{
    /// <summary>
    /// Calls <paramref name="body"/> once for every chunk, on up to <paramref name="threads"/> workers
    /// (0 = <see cref="Parallelism.MaxThreads"/>); the calling thread is one of them. If a call
    /// throws, no new chunks start and the first exception is rethrown as itself.
    /// </summary>
    public static void For(in ChunkPlan plan, Action<Chunk> body, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(body);
        int workers = Math.Min(Parallelism.Resolve(threads), plan.ChunkCount);
        if (workers <= 1)
        {
            for (int i = 0; i < plan.ChunkCount; i++) body(plan[i]);
            return;
        }
        var shared = new SharedCursor(plan, body);
        try
        {
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ => shared.Drain());
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>
    /// <paramref name="partial"/> of every chunk (in parallel), then folded left to right in chunk
    /// order with <paramref name="combine"/>: combine(combine(p0, p1), p2) ... Returns
    /// <paramref name="empty"/> when there are no chunks.
    /// </summary>
    public static T Reduce<T>(in ChunkPlan plan, Func<Chunk, T> partial, Func<T, T, T> combine, T empty, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(partial);
        ArgumentNullException.ThrowIfNull(combine);
        int count = plan.ChunkCount;
        if (count == 0) return empty;
        T[] partials = ArrayPool<T>.Shared.Rent(count);
        try
        {
            For(plan, c => partials[c.Index] = partial(c), threads);
            T acc = partials[0];
            for (int i = 1; i < count; i++) acc = combine(acc, partials[i]);
            return acc;
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials, clearArray: System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }
    }

    /// <summary>The shared "next chunk" counter the workers pull from.</summary>
    private sealed class SharedCursor(ChunkPlan plan, Action<Chunk> body)
    {
        private int _next = -1;
        private volatile bool _failed;

        public void Drain()
        {
            try
            {
                for (int i = Interlocked.Increment(ref _next); i < plan.ChunkCount && !_failed; i = Interlocked.Increment(ref _next))
                    body(plan[i]);
            }
            catch
            {
                _failed = true;
                throw;
            }
        }
    }
}
