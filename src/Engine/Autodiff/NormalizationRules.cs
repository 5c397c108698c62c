namespace Amalgam.Engine.Autodiff;

/// <summary>Backward steps of Softmax, LogSoftmax, LayerNormalization and the reductions.</summary>
internal static class NormalizationRules
{
    public static void Register(Dictionary<string, GradientRule> t)
    {
        // y = softmax(x) along one axis: dx = y * (dy - sum(dy * y)).
        t["Softmax"] = c => c.Set(0, () =>
        {
            long axis = SoftmaxAxis(c);
            string s = c.E.ReduceSum(c.E.Mul(c.DY, c.Y()), [axis], keepdims: true);
            return c.E.Mul(c.Y(), c.E.Sub(c.DY, s));
        });
        // y = log_softmax(x): dx = dy - exp(y) * sum(dy).
        t["LogSoftmax"] = c => c.Set(0, () =>
        {
            long axis = SoftmaxAxis(c);
            string s = c.E.ReduceSum(c.DY, [axis], keepdims: true);
            return c.E.Sub(c.DY, c.E.Mul(c.E.Exp(c.Y()), s));
        });
        t["LayerNormalization"] = LayerNorm;
        t["ReduceSum"] = c => Reduce(c, mean: false);
        t["ReduceMean"] = c => Reduce(c, mean: true);
    }

    private static bool HasStatistics(RuleContext c) =>
        c.Node.Output.Count >= 3 && c.Node.Output[1].Length > 0 && c.Node.Output[2].Length > 0
        && c.OutMeta[1].ElemType == c.InMeta[0]!.ElemType && c.OutMeta[2].ElemType == c.InMeta[0]!.ElemType;

    /// <summary>The softmax axis. Before opset 13 the input was flattened to 2-D at the axis (default 1),
    /// which is the same as one axis only when it is the last.</summary>
    private static long SoftmaxAxis(RuleContext c)
    {
        int rank = c.OutShape().Length;
        int axis = ShapeMath.Axis(c.Node.Int("axis", c.E.Opset >= 13 ? -1 : 1), rank, c.Where);
        if (c.E.Opset < 13 && axis != rank - 1) throw c.Unsupported($"{c.Node.OpType} before opset 13 over axes {axis}.. (only the last axis)");
        return axis;
    }

    /// <summary>dX = the output gradient (divided by the count for a mean) put back on the reduced
    /// axes and expanded to X's shape.</summary>
    private static void Reduce(RuleContext c, bool mean)
    {
        long[] xs = c.InShape(0);
        var (axes, keep) = ShapeInference.ReduceAxes(c.Node, i => c.InMeta.Length > i ? c.InMeta[i] : null, xs.Length, c.E.Opset, c.Where);
        c.Set(0, () =>
        {
            string g = c.DY;
            if (mean)
            {
                long n = ShapeMath.Product(axes.Select(a => xs[a]));
                g = c.E.Mul(g, c.E.Scalar(1.0 / n));
            }
            var kept = ShapeInference.ReducedShape(xs, axes, keep: true);
            if (!keep) g = c.E.Reshape(g, kept);
            return kept.SequenceEqual(xs) ? g : c.E.Expand(g, xs);
        });
    }

    /// <summary>
    /// y = xhat * scale + bias with xhat = (x - mean) * rstd over axes [axis, rank). Statistics are
    /// recomputed; with g = dy * scale:
    /// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dscale = sum(dy * xhat), dbias = sum(dy).
    /// </summary>
    private static void LayerNorm(RuleContext c)
    {
        if (c.OutGrad.Skip(1).Any(g => g is not null)) throw c.Unsupported("a gradient through LayerNormalization's Mean/InvStdDev outputs");
        long[] xs = c.InShape(0);
        int axis = ShapeMath.Axis(c.Node.Int("axis", -1), xs.Length, c.Where);
        long[] axes = Enumerable.Range(axis, xs.Length - axis).Select(i => (long)i).ToArray();
        double eps = c.Node.Float("epsilon", 1e-5f);
        var e = c.E;
        string mean, rstd;
        if (HasStatistics(c))
        {
            // The builder exposed the forward node's Mean and InvStdDev outputs (float32 models).
            (mean, rstd) = (c.Y(1), c.Y(2));
        }
        else
        {
            mean = e.ReduceMean(c.X(0), axes, true);
            string centred = e.Sub(c.X(0), mean);
            string variance = e.ReduceMean(e.Mul(centred, centred), axes, true);
            rstd = e.Div(e.Scalar(1), e.Node("Sqrt", [e.Add(variance, e.Scalar(eps))]));
        }
        string xhat = e.Mul(e.Sub(c.X(0), mean), rstd);
        c.SetBroadcast(1, () => e.Mul(c.DY, xhat));
        if (c.Node.Input.Count > 2 && c.Node.Input[2].Length > 0) c.SetBroadcast(2, () => c.DY);
        c.Set(0, () =>
        {
            string g = e.Mul(c.DY, c.X(1));
            string m1 = e.ReduceMean(g, axes, true);
            string m2 = e.ReduceMean(e.Mul(g, xhat), axes, true);
            return e.Mul(rstd, e.Sub(e.Sub(g, m1), e.Mul(xhat, m2)));
        });
    }
}
