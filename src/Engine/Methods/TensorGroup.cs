using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// One shared parameter tensor of every model, in f32: theta0 (the base) and theta_1..theta_K (the
/// task models), converted from their stored dtype. Tensors may be read-only views; methods never
/// write them. <see cref="Index"/> is the tensor's position in the problem's sorted shared names,
/// the fixed order of "global" statistics.
/// </summary>
public sealed class TensorGroup(string name, int index, Tensor theta0, IReadOnlyList<Tensor> tasks)
{
    public string Name { get; } = name;
    public int Index { get; } = index;
    public Tensor Theta0 { get; } = theta0;
    public IReadOnlyList<Tensor> Thetas { get; } = tasks;
    public int K => Thetas.Count;
    public long Length => Theta0.ElementCount;
    public ReadOnlySpan<long> Shape => Theta0.Shape;
}
