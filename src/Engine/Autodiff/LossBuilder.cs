using Onnx;
using static Amalgam.Engine.Autodiff.NodeAttributes;

namespace Amalgam.Engine.Autodiff;

/// <summary>Appends the loss nodes (ordinary ops, differentiated by the same rules as the model).</summary>
internal static class LossBuilder
{
    public const string LabelsInput = "labels";

    /// <summary>Emits the loss of <paramref name="output"/> (shape <paramref name="shape"/>) and returns
    /// the name of the scalar it is in.</summary>
    public static string Emit(GraphEmitter e, GradientLoss loss, string output, long[] shape, string where)
    {
        if (loss == GradientLoss.HalfSumOfSquares)
            return e.Mul(e.ReduceSum(e.Mul(output, output), Enumerable.Range(0, shape.Length).Select(i => (long)i).ToArray(), keepdims: false), e.Scalar(0.5));
        if (shape.Length != 2)
            throw new Amalgam.Kernels.BadInputException($"{where}: the {loss} loss needs logits [batch, classes], output '{output}' is {ShapeMath.Format(shape)}");
        long batch = shape[0], classes = shape[1];
        string logp = e.Node("LogSoftmax", [output], Attr("axis", 1L));
        string perSample;
        if (loss == GradientLoss.Entropy)
        {
            perSample = e.ReduceSum(e.Mul(e.Exp(logp), logp), [1], keepdims: false);   // -H_b
        }
        else
        {
            string target = loss == GradientLoss.CrossEntropy
                ? e.Reshape(LabelsInput, [batch, 1])
                : e.Node("ArgMax", [output], Attr("axis", 1L), Attr("keepdims", 1L));
            string range = e.Constant(ConstValue.OfInts(Enumerable.Range(0, (int)classes).Select(i => (long)i).ToArray(), [1, classes]), "classes");
            string mask = e.Cast(e.Node("Equal", [target, range]), e.FloatType);
            perSample = e.ReduceSum(e.Mul(logp, mask), [1], keepdims: false);        // log p(target_b)
        }
        string mean = e.ReduceMean(perSample, [0], keepdims: false);
        return loss == GradientLoss.ArgmaxLogProbability ? mean : e.Neg(mean);
    }
}
