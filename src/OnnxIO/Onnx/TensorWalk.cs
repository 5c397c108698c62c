using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>Enumerates every TensorProto of a model: graph initializers, sparse initializers and
/// tensor-valued node attributes, including those of subgraphs (If/Loop/Scan bodies) and functions.</summary>
internal static class TensorWalk
{
    public static IEnumerable<TensorProto> AllTensors(ModelProto model)
    {
        if (model.Graph is not null)
            foreach (var t in AllTensors(model.Graph)) yield return t;
        foreach (var f in model.Functions)
            foreach (var node in f.Node)
                foreach (var t in NodeTensors(node)) yield return t;
        foreach (var info in model.TrainingInfo)
        {
            if (info.Initialization is not null)
                foreach (var t in AllTensors(info.Initialization)) yield return t;
            if (info.Algorithm is not null)
                foreach (var t in AllTensors(info.Algorithm)) yield return t;
        }
    }

    public static IEnumerable<TensorProto> AllTensors(GraphProto graph)
    {
        foreach (var t in graph.Initializer) yield return t;
        foreach (var s in graph.SparseInitializer)
            foreach (var t in Sparse(s)) yield return t;
        foreach (var node in graph.Node)
            foreach (var t in NodeTensors(node)) yield return t;
    }

    private static IEnumerable<TensorProto> NodeTensors(NodeProto node)
    {
        foreach (var a in node.Attribute)
        {
            if (a.T is not null) yield return a.T;
            foreach (var t in a.Tensors) yield return t;
            if (a.SparseTensor is not null)
                foreach (var t in Sparse(a.SparseTensor)) yield return t;
            foreach (var s in a.SparseTensors)
                foreach (var t in Sparse(s)) yield return t;
            if (a.G is not null)
                foreach (var t in AllTensors(a.G)) yield return t;
            foreach (var g in a.Graphs)
                foreach (var t in AllTensors(g)) yield return t;
        }
    }

    private static IEnumerable<TensorProto> Sparse(SparseTensorProto s)
    {
        if (s.Values is not null) yield return s.Values;
        if (s.Indices is not null) yield return s.Indices;
    }
}
