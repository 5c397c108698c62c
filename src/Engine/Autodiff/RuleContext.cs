using Onnx;

namespace Amalgam.Engine.Autodiff;

/// <summary>One node's backward step: the forward node, what is known about its inputs and outputs,
/// the incoming output gradients (null where none flows), and the input gradients the rule writes
/// (only where <see cref="Need"/> is set).</summary>
internal sealed class RuleContext(GraphEmitter emitter, NodeProto node, ValueMeta?[] inputs, ValueMeta[] outputs, string?[] outGrads, bool[] need)
{
    public GraphEmitter E { get; } = emitter;
    public NodeProto Node { get; } = node;
    public ValueMeta?[] InMeta { get; } = inputs;
    public ValueMeta[] OutMeta { get; } = outputs;
    public string?[] OutGrad { get; } = outGrads;
    public bool[] Need { get; } = need;
    public string?[] InGrad { get; } = new string?[need.Length];

    /// <summary>Instead of <see cref="InGrad"/>: the gradient of a slice of the input along one axis, to be
    /// placed back (several slices that tile the input become one Concat instead of Pads and a Sum).</summary>
    public SlicePiece?[] InPiece { get; } = new SlicePiece?[need.Length];
    public string Where => Node.Describe();

    public string X(int i) => Node.Input[i];
    public string Y(int i = 0) => Node.Output[i];
    public long[] InShape(int i) => InMeta[i]!.Shape;
    public long[] OutShape(int i = 0) => OutMeta[i].Shape;

    /// <summary>The gradient of the only differentiable output (every op with one output uses this).</summary>
    public string DY => OutGrad[0] ?? throw new InvalidOperationException($"{Where}: no gradient for its first output");

    /// <summary>Sets input <paramref name="i"/>'s gradient from a gradient of the output's shape, summing
    /// over broadcast axes; <paramref name="make"/> is only called if the input needs a gradient.</summary>
    public void SetBroadcast(int i, Func<string> make)
    {
        if (Need[i]) InGrad[i] = E.Unbroadcast(make(), OutShape(), InShape(i));
    }

    public void Set(int i, Func<string> make)
    {
        if (Need[i]) InGrad[i] = make();
    }

    public UnsupportedOpException Unsupported(string what) => new($"{Where}: {what} is not supported by the gradient builder");
}

internal delegate void GradientRule(RuleContext c);

/// <summary>The gradient <paramref name="Grad"/> of elements [Start, Start + Count) along <paramref name="Axis"/>
/// of a value of shape <paramref name="Shape"/> (zero elsewhere).</summary>
internal sealed record SlicePiece(string Grad, int Axis, long Start, long Count, long[] Shape)
{
    public string Padded(GraphEmitter e)
    {
        var pads = new long[2 * Shape.Length];
        pads[Axis] = Start;
        pads[Shape.Length + Axis] = Shape[Axis] - Start - Count;
        return e.Node("Pad", [Grad, e.Ints(pads)]);
    }

    /// <summary>The one gradient for all pieces: a Concat if they tile the value along one axis, else
    /// null.</summary>
    public static string? TryConcat(GraphEmitter e, List<SlicePiece> pieces)
    {
        var sorted = pieces.OrderBy(p => p.Start).ToList();
        long next = 0;
        foreach (var p in sorted)
        {
            if (p.Axis != sorted[0].Axis || p.Start != next) return null;
            next += p.Count;
        }
        if (next != sorted[0].Shape[sorted[0].Axis]) return null;
        return sorted.Count == 1 ? sorted[0].Grad : e.Node("Concat", sorted.Select(p => p.Grad), NodeAttributes.Attr("axis", (long)sorted[0].Axis));
    }
}
