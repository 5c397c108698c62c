using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Autodiff;

/// <summary>
/// Reverse-mode differentiation of an ONNX graph into another ONNX graph. Shapes are inferred
/// statically from the fixed input shapes; shape arithmetic is evaluated while building and never
/// differentiated. Walking the nodes backwards, each node whose outputs received a gradient and
/// some of whose inputs depend on a parameter writes its backward step with standard ONNX ops; a
/// value used several times sums its gradients. Anything unsupported fails here, naming the node,
/// before a runtime sees the graph.
/// </summary>
public static partial class GradientGraphBuilder
{
    public const int MinOpset = 11, MaxOpset = 18;

    private static readonly Dictionary<string, GradientRule> Rules = CreateRules();

    /// <summary>Ops that have a gradient rule.</summary>
    public static IReadOnlyCollection<string> SupportedOps => Rules.Keys;

    private static Dictionary<string, GradientRule> CreateRules()
    {
        var t = new Dictionary<string, GradientRule>(StringComparer.Ordinal);
        ElementwiseRules.Register(t);
        LinearRules.Register(t);
        NormalizationRules.Register(t);
        ShapeRules.Register(t);
        return t;
    }

    public static GradientGraph Build(OnnxModel model, GradientRequest request)
    {
        string file = model.DisplayName;
        var proto = ModelProto.Parser.ParseFrom(model.ToInlineBytes());
        var graph = proto.Graph;
        int opset = (int)(proto.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0);
        if (opset is < MinOpset or > MaxOpset)
            throw new BadInputException($"{file}: opset {opset} is not supported for gradients (need {MinOpset} to {MaxOpset})");

        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var parameters = ResolveParameters(file, request, initializers);
        int floatType = parameters.Count > 0 ? parameters[0].ElemType : (int)DataType.Float;

        var meta = new Dictionary<string, ValueMeta>(StringComparer.Ordinal);
        var paramNames = parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var t in graph.Initializer)
            meta[t.Name] = new ValueMeta(t.DataType, t.Dims.ToArray(), paramNames.Contains(t.Name) ? null : ConstValue.FromTensor(t));
        var data = DataInputs(file, graph, request, initializers);
        foreach (var d in data) meta[d.Name] = new ValueMeta(d.ElemType, d.Shape);

        string output = request.Output ?? (graph.Output.Count == 1 ? graph.Output[0].Name
            : throw new BadInputException($"{file}: the model has {graph.Output.Count} outputs; name the one the loss is computed from"));
        if (!graph.Output.Any(o => o.Name == output)) throw new BadInputException($"{file}: no output named '{output}'");

        var taken = graph.Node.SelectMany(n => n.Output).Concat(meta.Keys).Append(GradientGraph.LossOutput).Append(LossBuilder.LabelsInput);
        var emitter = new GraphEmitter(graph, opset, floatType, taken);
        GraphInput? labels = null;
        if (request.Loss == GradientLoss.CrossEntropy)
        {
            if (meta.ContainsKey(LossBuilder.LabelsInput)) throw new BadInputException($"{file}: the model already has a value named 'labels'");
            labels = new GraphInput(LossBuilder.LabelsInput, (int)DataType.Int64, [data.Count > 0 ? data[0].Shape[0] : 1]);
            meta[labels.Name] = new ValueMeta(labels.ElemType, labels.Shape);
        }

        var forward = TopologicalOrder(file, graph.Node.ToList(), meta.Keys);
        long classes = 0;
        try
        {
            foreach (var node in forward) Guarded(node, () => ShapeInference.Infer(node, meta, opset));
            ExposeLayerNormStatistics(forward, meta, emitter, opset);
            var outMeta = meta[output];
            classes = outMeta.Rank > 0 ? outMeta.Shape[^1] : 1;
            if (outMeta.ElemType != floatType)
                throw new BadInputException($"{file}: output '{output}' is {OnnxDTypes.OnnxName(outMeta.ElemType)}, the parameters are {OnnxDTypes.OnnxName(floatType)}");
            int before = graph.Node.Count;
            string lossValue = LossBuilder.Emit(emitter, request.Loss, output, outMeta.Shape, $"{file}", request.ImWeight);
            graph.Node.Add(new NodeProto { OpType = "Identity", Name = "autodiff/loss", Input = { lossValue }, Output = { GradientGraph.LossOutput } });
            var lossNodes = graph.Node.Skip(before).ToList();
            foreach (var t in graph.Initializer)
                if (!meta.ContainsKey(t.Name)) meta[t.Name] = new ValueMeta(t.DataType, t.Dims.ToArray(), ConstValue.FromTensor(t));
            foreach (var node in lossNodes) Guarded(node, () => ShapeInference.Infer(node, meta, opset));
            forward.AddRange(lossNodes);

            var grads = Backward(forward, meta, paramNames, emitter);
            WriteInterface(graph, data, labels, parameters, grads, emitter, floatType);
        }
        catch (InvalidOperationException e)
        {
            throw new BadInputException($"{file}: {e.Message}", e);
        }
        catch (UnsupportedOpException e)
        {
            throw new UnsupportedOpException($"{file}: {e.Message}");
        }
        return new GradientGraph(proto, data, labels, parameters, classes);
    }

    private static List<GraphInput> ResolveParameters(string file, GradientRequest request, Dictionary<string, TensorProto> initializers)
    {
        var list = new List<GraphInput>();
        foreach (var name in request.Parameters.Distinct())
        {
            if (!initializers.TryGetValue(name, out var t)) throw new BadInputException($"{file}: no initializer named '{name}' to differentiate");
            if (t.DataType is not ((int)DataType.Float or (int)DataType.Double))
                throw new BadInputException($"{file}: initializer '{name}' is {OnnxDTypes.OnnxName(t.DataType)}; gradients need FLOAT or DOUBLE");
            if (list.Count > 0 && list[0].ElemType != t.DataType)
                throw new BadInputException($"{file}: initializer '{name}' is {OnnxDTypes.OnnxName(t.DataType)}, '{list[0].Name}' is {OnnxDTypes.OnnxName(list[0].ElemType)}; all parameters need one float type");
            list.Add(new GraphInput(name, t.DataType, t.Dims.ToArray()));
        }
        return list;
    }

    private static List<GraphInput> DataInputs(string file, GraphProto graph, GradientRequest request, Dictionary<string, TensorProto> initializers)
    {
        var list = new List<GraphInput>();
        foreach (var input in graph.Input)
        {
            if (initializers.ContainsKey(input.Name)) continue;
            if (!request.InputShapes.TryGetValue(input.Name, out var shape))
                throw new BadInputException($"{file}: no shape given for input '{input.Name}'");
            var type = input.Type?.TensorType ?? throw new BadInputException($"{file}: input '{input.Name}' is not a tensor");
            var dims = type.Shape?.Dim;
            if (dims is not null && dims.Count > 0)
            {
                bool fits = dims.Count == shape.Length && dims.Select((d, i) => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue == shape[i]).All(b => b);
                if (!fits) throw new BadInputException($"{file}: input '{input.Name}' cannot have shape {ShapeMath.Format(shape)}");
            }
            list.Add(new GraphInput(input.Name, type.ElemType, (long[])shape.Clone()));
        }
        foreach (var name in request.InputShapes.Keys)
            if (!list.Any(d => d.Name == name)) throw new BadInputException($"{file}: the model has no data input '{name}'");
        return list;
    }

    /// <summary>Malformed nodes (missing inputs, attributes of the wrong length) surface as one error naming the node.</summary>
    private static void Guarded(NodeProto node, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentException or KeyNotFoundException or InvalidDataException
            or OverflowException or DivideByZeroException or NullReferenceException)
        {
            throw new InvalidOperationException($"{node.Describe()}: malformed node ({ex.Message})", ex);
        }
    }

    /// <summary>Nodes in an order where every input is produced before use (ONNX requires it; checked).</summary>
    private static List<NodeProto> TopologicalOrder(string file, List<NodeProto> nodes, IEnumerable<string> known)
    {
        var available = new HashSet<string>(known, StringComparer.Ordinal) { "" };
        var result = new List<NodeProto>(nodes.Count);
        var remaining = new List<NodeProto>(nodes);
        while (remaining.Count > 0)
        {
            int before = remaining.Count;
            remaining.RemoveAll(n =>
            {
                if (!n.Input.All(available.Contains)) return false;
                result.Add(n);
                foreach (var o in n.Output) available.Add(o);
                return false || true;
            });
            if (remaining.Count == before)
                throw new BadInputException($"{file}: {remaining[0].Describe()} uses '{remaining[0].Input.First(i => !available.Contains(i))}', which nothing produces");
        }
        return result;
    }
}
