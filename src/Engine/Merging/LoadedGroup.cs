using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// One shared tensor of the base and every task in its stored dtype (usually views of the
/// checkpoints) as a <see cref="TensorGroup"/>; disposing it drops the mapped pages and frees them
/// all. The one place a whole tensor group is loaded from a <see cref="MergeProblem"/>.
/// </summary>
public sealed class LoadedGroup : IDisposable
{
    private readonly List<Tensor> _tensors;

    private LoadedGroup(TensorGroup group, List<Tensor> tensors) => (Group, _tensors) = (group, tensors);

    public TensorGroup Group { get; }

    /// <summary>Shared tensor <paramref name="index"/>; <paramref name="load"/> loads one checkpoint's tensor (default: as stored).</summary>
    public static LoadedGroup Load(MergeProblem problem, int index, Func<Checkpoints.ICheckpoint, string, Tensor>? load = null)
    {
        string name = problem.Shared[index].Name;
        load ??= (c, n) => c.Load(n);
        var tensors = new List<Tensor>(problem.K + 1);
        try
        {
            tensors.Add(load(problem.Base, name));
            foreach (var task in problem.Tasks) tensors.Add(load(task, name));
            return new LoadedGroup(new TensorGroup(name, index, tensors[0], tensors.Skip(1).ToArray()), tensors);
        }
        catch
        {
            foreach (var t in tensors) Float32Loader.Release(t);
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var t in _tensors) Float32Loader.Release(t);
        _tensors.Clear();
    }
}
