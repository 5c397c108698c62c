namespace Amalgam.Engine.Zoo;

/// <summary>Synchronous IProgress (System.Progress posts to the thread pool, out of order): the zoo builders set the learning rate from it between steps.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
