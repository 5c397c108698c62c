using Amalgam.Kernels;

namespace Amalgam.Engine.Training;

/// <summary>
/// An optimiser over a fixed set of float32 parameter tensors, updated in place (the caller owns
/// them; e.g. the tensors a <see cref="Autodiff.GradientSession"/> is bound to). Owns its state
/// buffers and the step count; <see cref="Step"/> takes the gradients by parameter name.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly List<Tensor> _state = [];

    protected Optimizer(IEnumerable<Tensor> parameters)
    {
        Parameters = parameters.ToList();
        if (Parameters.Count == 0) throw new ArgumentException("no parameters to optimise", nameof(parameters));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in Parameters)
        {
            if (p.DType != DType.F32) throw new ArgumentException($"parameter '{p.Name}' is {p.DType.ShortName()}; the optimisers update f32 tensors", nameof(parameters));
            if (p.IsReadOnly) throw new ArgumentException($"parameter '{p.Name}' is read-only", nameof(parameters));
            if (!names.Add(p.Name)) throw new ArgumentException($"parameter '{p.Name}' is listed twice", nameof(parameters));
        }
    }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; private set; }

    /// <summary>The learning rate of the next step (may be changed between steps, e.g. by a schedule).</summary>
    public abstract float LearningRate { get; set; }

    /// <summary>One update of every parameter from <paramref name="gradients"/> (by parameter name, same shape).</summary>
    public void Step(IReadOnlyDictionary<string, Tensor> gradients)
    {
        foreach (var p in Parameters)
        {
            if (!gradients.TryGetValue(p.Name, out var g)) throw new ArgumentException($"no gradient for parameter '{p.Name}'", nameof(gradients));
            if (g.DType != DType.F32 || !g.Shape.SequenceEqual(p.Shape))
                throw new ArgumentException($"gradient of '{p.Name}' is {g.DType.ShortName()} {Shapes.Format(g.Shape)}, the parameter is f32 {Shapes.Format(p.Shape)}", nameof(gradients));
        }
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
            Update(i, Parameters[i].Write<float>(), gradients[Parameters[i].Name].Read<float>(), StepCount);
    }

    /// <summary>Updates parameter <paramref name="index"/> for step <paramref name="step"/> (1-based).</summary>
    protected abstract void Update(int index, Span<float> param, ReadOnlySpan<float> grad, long step);

    /// <summary>A zeroed state buffer shaped like parameter <paramref name="index"/>, owned by the optimiser.</summary>
    protected Tensor NewState(int index, string kind)
    {
        var p = Parameters[index];
        var t = Tensor.Allocate($"{kind}.{p.Name}", DType.F32, p.Shape);
        _state.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _state) t.Dispose();
        _state.Clear();
        GC.SuppressFinalize(this);
    }
}
