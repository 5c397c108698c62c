using Onnx;
using static Amalgam.Engine.Autodiff.NodeAttributes;

namespace Amalgam.Engine.Autodiff;

/// <summary>Appends the loss nodes (ordinary ops, differentiated by the same rules as the model).</summary>
internal static class LossBuilder
{
    public const string LabelsInput = "labels";

    /// <summary>Emits the loss of <paramref name="output"/> (shape <paramref name="shape"/>) and returns
    /// the name of the scalar it is in.</summary>
    public static string Emit(GraphEmitter e, GradientLoss loss, string output, long[] shape, string where, double imWeight = 1)
    {
        if (loss == GradientLoss.HalfSumOfSquares)
            return e.Mul(e.ReduceSum(e.Mul(output, output), Enumerable.Range(0, shape.Length).Select(i => (long)i).ToArray(), keepdims: false), e.Scalar(0.5));
        if (shape.Length != 2)
            throw new Amalgam.Kernels.BadInputException($"{where}: the {loss} loss needs logits [batch, classes], output '{output}' is {ShapeMath.Format(shape)}");
        long batch = shape[0], classes = shape[1];
        string logp = e.Node("LogSoftmax", [output], Attr("axis", 1L));
        string perSample;
        if (loss is GradientLoss.Entropy or GradientLoss.InformationMaximisation)
        {
            string p = e.Exp(logp);
            perSample = e.ReduceSum(e.Mul(p, logp), [1], keepdims: false);   // -H_b
            if (loss == GradientLoss.InformationMaximisation)
                return InformationMaximisation(e, p, e.ReduceMean(perSample, [0], keepdims: false), imWeight);
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

    /// <summary>
    /// mean_b H(p_b) - w H(pbar), pbar = mean_b p_b, from <paramref name="negMeanEntropy"/> = -mean_b H(p_b):
    /// written as Neg(-mean H) + w * sum_c pbar_c log pbar_c, so that w = 0 gives the entropy loss's
    /// bits (x + 0 * finite = x) and its gradient (the marginal branch contributes exact zeros). SHOT
    /// adds 1e-5 inside the log; here only the smallest normal float is added, so that a class no
    /// sample gives any probability (pbar_c = 0 after underflow) counts 0 log 0 = 0 and not NaN.
    /// </summary>
    private static string InformationMaximisation(GraphEmitter e, string p, string negMeanEntropy, double w)
    {
        string pbar = e.ReduceMean(p, [0], keepdims: false);
        double tiny = e.FloatType == (int)TensorProto.Types.DataType.Double ? 2.2250738585072014e-308 : 1.1754943508222875e-38; // smallest normals
        string negMarginal = e.ReduceSum(e.Mul(pbar, e.Node("Log", [e.Add(pbar, e.Scalar(tiny))])), [0], keepdims: false);
        return e.Add(e.Neg(negMeanEntropy), e.Mul(negMarginal, e.Scalar(w)));
    }
}
