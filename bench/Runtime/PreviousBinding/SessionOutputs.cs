using System.Collections;
using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// Outputs of one run as read-only tensors over ORT's buffers, in the order requested.
/// Disposing this disposes every tensor in it (and so releases ORT's buffers).
/// </summary>
internal sealed class SessionOutputs : IReadOnlyList<Tensor>, IDisposable
{
    private readonly Tensor[] _tensors;

    internal SessionOutputs(Tensor[] tensors) => _tensors = tensors;

    public int Count => _tensors.Length;
    public Tensor this[int index] => _tensors[index];

    /// <summary>The output called <paramref name="name"/>.</summary>
    public Tensor this[string name] =>
        Array.Find(_tensors, t => t.Name == name)
        ?? throw new KeyNotFoundException($"no output '{name}' in this run (have: {string.Join(", ", _tensors.Select(t => t.Name))})");

    public IEnumerator<Tensor> GetEnumerator() => ((IEnumerable<Tensor>)_tensors).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (Tensor t in _tensors) t.Dispose();
    }
}
