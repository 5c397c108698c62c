using System.Runtime.ExceptionServices;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// Runs numbered jobs 0..count-1 on up to N workers and commits their results strictly in job order
/// (an ordered-commit pipeline). A worker takes the next job number from a shared counter, runs it
/// (in parallel with the others), then waits until every earlier job is committed, commits its own
/// and only then takes another job: so each worker has at most one uncommitted result, and the commits
/// are the same calls in the same order as the sequential loop run(0), commit(0), run(1), ... at any
/// worker count. Commits never overlap in time (each happens-after the previous one), so a commit may
/// add into shared state without a lock. No deadlock: the worker holding the lowest uncommitted job
/// never waits. If a call throws, no new job starts, waiting workers give up, and the first exception
/// is rethrown as itself.
/// </summary>
internal static class OrderedRuns
{
    /// <param name="run">(worker, job): the parallel part; worker is in [0, workers) and no two concurrent calls share one.</param>
    /// <param name="commit">(worker, job): called once per job in job order, on the worker that ran it.</param>
    public static void Run(int count, int workers, Action<int, int> run, Action<int, int> commit)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(commit);
        workers = Math.Min(workers, count);
        if (workers <= 1)
        {
            for (int job = 0; job < count; job++)
            {
                run(0, job);
                commit(0, job);
            }
            return;
        }
        var pipeline = new Pipeline(count, run, commit);
        try
        {
            // Each index is one worker; an index that starts late finds fewer (or no) jobs left.
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, pipeline.Drain);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    private sealed class Pipeline(int count, Action<int, int> run, Action<int, int> commit)
    {
        private readonly object _gate = new();
        private int _next = -1;
        private int _committed;
        private volatile bool _failed;

        public void Drain(int worker)
        {
            try
            {
                for (int job = Interlocked.Increment(ref _next); job < count && !_failed; job = Interlocked.Increment(ref _next))
                {
                    run(worker, job);
                    lock (_gate)
                    {
                        while (_committed != job && !_failed) Monitor.Wait(_gate);
                        if (_failed) return;
                    }
                    commit(worker, job);
                    lock (_gate)
                    {
                        _committed = job + 1;
                        Monitor.PulseAll(_gate);
                    }
                }
            }
            catch
            {
                lock (_gate)
                {
                    _failed = true;
                    Monitor.PulseAll(_gate);
                }
                throw;
            }
        }
    }
}
