using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Autodiff;

/// <summary>
/// A gradient graph loaded into ONNX Runtime once, with every input and output bound to tensors we
/// own: write the data inputs (and labels) in place, call <see cref="Step"/>, read the gradients.
/// Parameters are read from the model's initializers, or bound from tensors the caller passes (and
/// may update in place between steps, e.g. an optimiser). Nothing is created or copied per step.
/// </summary>
public sealed class GradientSession : IDisposable
{
    private readonly OnnxSession _session;
    private readonly BoundRun _run;
    private readonly List<Tensor> _owned;
    private readonly Tensor _loss;

    private GradientSession(GradientGraph graph, OnnxSession session, Dictionary<string, Tensor> inputs,
        Dictionary<string, Tensor> parameters, Dictionary<string, Tensor> gradients, Tensor loss, List<Tensor> owned)
    {
        Graph = graph;
        _session = session;
        Inputs = inputs;
        Parameters = parameters;
        Gradients = gradients;
        _loss = loss;
        _owned = owned;
        var bound = new Dictionary<string, Tensor>(inputs);
        foreach (var (k, v) in parameters) bound[k] = v;
        var outputs = gradients.ToDictionary(kv => GradientGraph.GradientName(kv.Key), kv => kv.Value);
        outputs[GradientGraph.LossOutput] = loss;
        _run = session.Bind(bound, outputs);
    }

    public GradientGraph Graph { get; }

    /// <summary>Data inputs (and <c>labels</c>) by name, with the fixed shapes; fill before each step.</summary>
    public IReadOnlyDictionary<string, Tensor> Inputs { get; }

    /// <summary>The parameter tensors bound to the graph.</summary>
    public IReadOnlyDictionary<string, Tensor> Parameters { get; }

    /// <summary>Gradient buffers by parameter name, overwritten by each step.</summary>
    public IReadOnlyDictionary<string, Tensor> Gradients { get; }

    /// <summary>
    /// Builds the gradient graph of <paramref name="model"/> and a session for it. Parameters come from
    /// <paramref name="parameters"/> when given (the caller keeps them alive and owns them; each must
    /// have its initializer's dtype and shape), otherwise from the model's initializers. Data inputs
    /// and labels likewise come from <paramref name="inputs"/> when given (e.g. a loader's batch
    /// buffers), otherwise the session allocates them. Gradient buffers likewise come from
    /// <paramref name="gradients"/> when given (several sessions run in turn may share one set).
    /// </summary>
    public static GradientSession Create(OnnxModel model, GradientRequest request, SessionSettings? options = null,
        IReadOnlyDictionary<string, Tensor>? parameters = null, IReadOnlyDictionary<string, Tensor>? inputs = null,
        IReadOnlyDictionary<string, Tensor>? gradients = null)
    {
        var graph = GradientGraphBuilder.Build(model, request);
        var owned = new List<Tensor>();
        OnnxSession? session = null;
        try
        {
            var data = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var d in graph.DataInputs.Append(graph.Labels).OfType<GraphInput>())
            {
                var dtype = ToDType(d.ElemType, model.DisplayName, d.Name);
                data[d.Name] = inputs is not null && inputs.TryGetValue(d.Name, out var given)
                    ? Checked(model.DisplayName, "input", d.Name, dtype, d.Shape, given)
                    : Own(owned, Tensor.Allocate(d.Name, dtype, d.Shape));
            }
            var bound = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var grads = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var p in graph.Parameters)
            {
                var dtype = ToDType(p.ElemType, model.DisplayName, p.Name);
                bound[p.Name] = parameters is not null && parameters.TryGetValue(p.Name, out var given)
                    ? Checked(model.DisplayName, "parameter", p.Name, dtype, p.Shape, given)
                    : Own(owned, model.ReadInitializer(p.Name));
                grads[p.Name] = gradients is not null && gradients.TryGetValue(p.Name, out var buffer)
                    ? Checked(model.DisplayName, "gradient", p.Name, dtype, p.Shape, buffer)
                    : Own(owned, Tensor.Allocate(GradientGraph.GradientName(p.Name), dtype, p.Shape));
            }
            var loss = Own(owned, Tensor.Allocate(GradientGraph.LossOutput, ToDType(graph.FloatType, model.DisplayName, "loss"), []));
            session = OnnxSession.FromBytes(graph.ToBytes(), options);
            return new GradientSession(graph, session, data, bound, grads, loss, owned);
        }
        catch
        {
            session?.Dispose();
            foreach (var t in owned) t.Dispose();
            throw;
        }
    }

    /// <summary>Runs forward and backward on the current inputs and parameters; returns the loss.</summary>
    public double Step()
    {
        if (Graph.Labels is { } labels)
        {
            long classes = Graph.Classes;
            foreach (long label in Inputs[labels.Name].Read<long>())
                if (label < 0 || label >= classes)
                    throw new BadInputException($"labels: {label} is not a class of the model's output (0 to {classes - 1})");
        }
        _run.Run();
        return _loss.DType == DType.F64 ? _loss.Read<double>()[0] : _loss.Read<float>()[0];
    }

    private static Tensor Checked(string file, string kind, string name, DType dtype, long[] shape, Tensor given) =>
        given.DType == dtype && given.Shape.SequenceEqual(shape) ? given
            : throw new BadInputException($"{file}: {kind} '{name}' is {dtype.ShortName()} {Shapes.Format(shape)}, the tensor given is {given.DType.ShortName()} {Shapes.Format(given.Shape)}");

    private static Tensor Own(List<Tensor> owned, Tensor t)
    {
        owned.Add(t);
        return t;
    }

    private static DType ToDType(int onnxType, string file, string name) =>
        OnnxDTypes.TryToDType(onnxType, out var d) ? d : throw new BadInputException($"{file}: '{name}' has element type {OnnxDTypes.OnnxName(onnxType)}, which is not supported");

    public void Dispose()
    {
        _run.Dispose();
        _session.Dispose();
        foreach (var t in _owned) t.Dispose();
    }
}
