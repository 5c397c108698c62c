using static Amalgam.Engine.Autodiff.NodeAttributes;

namespace Amalgam.Engine.Autodiff;

/// <summary>Backward steps of MatMul, Gemm and Conv, written with MatMul/Gemm/Conv/ConvTranspose.</summary>
internal static class LinearRules
{
    public static void Register(Dictionary<string, GradientRule> t)
    {
        t["MatMul"] = MatMul;
        t["Gemm"] = Gemm;
        t["Conv"] = Conv;
    }

    /// <summary>
    /// Y = A B (numpy matmul). dA = dY B^T, dB = A^T dY, summed over broadcast batch axes. A 1-D
    /// operand is a row (A) or column (B) vector. When B is a matrix and A is batched, dB is one
    /// Gemm over the flattened batch: A^T [K, rows] x dY [rows, N].
    /// </summary>
    private static void MatMul(RuleContext c)
    {
        long[] sa = c.InShape(0), sb = c.InShape(1);
        long[] a2 = sa.Length == 1 ? [1, sa[0]] : sa, b2 = sb.Length == 1 ? [sb[0], 1] : sb;
        var batch = ShapeMath.Broadcast(c.Where, a2[..^2], b2[..^2]);
        long m = a2[^2], k = a2[^1], n = b2[^1];
        long[] y2 = [.. batch, m, n];
        string dy = c.OutShape().SequenceEqual(y2) ? c.DY : c.E.Reshape(c.DY, y2);
        string a = sa.Length == 1 ? c.E.Reshape(c.X(0), a2) : c.X(0);
        string b = sb.Length == 1 ? c.E.Reshape(c.X(1), b2) : c.X(1);

        c.Set(0, () =>
        {
            // ORT folds the weight's Transpose into the product (FusedMatMul).
            string ga = c.E.Node("MatMul", [dy, c.E.Transpose(b, SwapLast(b2.Length))]);
            return Finish(c, ga, [.. batch, m, k], a2, sa);
        });
        c.Set(1, () =>
        {
            if (b2.Length == 2)
            {
                long rows = ShapeMath.Product(batch) * m;
                string af = a2.Length == 2 ? a : c.E.Reshape(a, [rows, k]);
                string df = y2.Length == 2 ? dy : c.E.Reshape(dy, [rows, n]);
                string gb2 = c.E.Node("Gemm", [af, df], Attr("transA", 1L));
                return sb.Length == 1 ? c.E.Reshape(gb2, sb) : gb2;
            }
            string gb = c.E.Node("MatMul", [c.E.Transpose(a, SwapLast(a2.Length)), dy]);
            return Finish(c, gb, [.. batch, k, n], b2, sb);
        });
    }

    private static string Finish(RuleContext c, string grad, long[] gradShape, long[] operand2, long[] operand)
    {
        string g = c.E.Unbroadcast(grad, gradShape, operand2);
        return operand.Length == operand2.Length ? g : c.E.Reshape(g, operand);
    }

    private static long[] SwapLast(int rank)
    {
        var p = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (p[^1], p[^2]) = (p[^2], p[^1]);
        return p;
    }

    /// <summary>
    /// Y = alpha A' B' + beta C, with A' = transA ? A^T : A and B' likewise.
    /// dA' = alpha dY B'^T and dB' = alpha A'^T dY, each written as one Gemm whose transpose flags
    /// undo the forward ones; dC = beta dY summed to C's shape.
    /// </summary>
    private static void Gemm(RuleContext c)
    {
        float alpha = c.Node.Float("alpha", 1f), beta = c.Node.Float("beta", 1f);
        bool ta = c.Node.Int("transA", 0) != 0, tb = c.Node.Int("transB", 0) != 0;
        var al = Attr("alpha", alpha);
        c.Set(0, () => ta
            ? c.E.Node("Gemm", [c.X(1), c.DY], al, Attr("transA", tb ? 1L : 0L), Attr("transB", 1L))
            : c.E.Node("Gemm", [c.DY, c.X(1)], al, Attr("transA", 0L), Attr("transB", tb ? 0L : 1L)));
        c.Set(1, () => tb
            ? c.E.Node("Gemm", [c.DY, c.X(0)], al, Attr("transA", 1L), Attr("transB", ta ? 1L : 0L))
            : c.E.Node("Gemm", [c.X(0), c.DY], al, Attr("transA", ta ? 0L : 1L), Attr("transB", 0L)));
        if (c.Node.Input.Count > 2 && c.Node.Input[2].Length > 0)
            c.SetBroadcast(2, () => beta == 1f ? c.DY : c.E.Mul(c.DY, c.E.Scalar(beta)));
    }

    /// <summary>
    /// Y = conv(X, W) + B. dX = ConvTranspose(dY, W) with output_padding chosen to give X's size.
    /// dW[o,c,k] = sum_{n,i} dY[n,o,i] X[n,c,i*s+k*d]: a convolution of X (channels as batch) with dY
    /// (batch as channels) whose stride is the forward dilation and dilation the forward stride,
    /// cropped to the kernel size. dB = dY summed over batch and space. Only group 1 for dW.
    /// </summary>
    private static void Conv(RuleContext c)
    {
        long[] xs = c.InShape(0), ws = c.InShape(1), ys = c.OutShape();
        int sp = xs.Length - 2;
        var p = ConvParams.Of(c.Node, sp, ws, c.Where);
        long[] swap = [1, 0, .. Enumerable.Range(2, sp).Select(i => (long)i)];
        c.Set(0, () =>
        {
            var outPad = new long[sp];
            for (int i = 0; i < sp; i++)
                outPad[i] = xs[i + 2] - (p.Strides[i] * (ys[i + 2] - 1) + (ws[i + 2] - 1) * p.Dilations[i] + 1 - p.Pads[i] - p.Pads[i + sp]);
            return c.E.Node("ConvTranspose", [c.DY, c.X(1)], Attr("strides", p.Strides), Attr("pads", p.Pads),
                Attr("dilations", p.Dilations), Attr("group", p.Group), Attr("output_padding", outPad));
        });
        c.Set(1, () =>
        {
            if (p.Group != 1) throw c.Unsupported("the weight gradient of a grouped Conv");
            string xt = c.E.Transpose(c.X(0), swap), dyt = c.E.Transpose(c.DY, swap);
            string gw = c.E.Node("Conv", [xt, dyt], Attr("strides", p.Dilations), Attr("pads", p.Pads), Attr("dilations", p.Strides));
            var full = new long[sp];
            for (int i = 0; i < sp; i++)
                full[i] = (xs[i + 2] + p.Pads[i] + p.Pads[i + sp] - (p.Strides[i] * (ys[i + 2] - 1) + 1)) / p.Dilations[i] + 1;
            gw = c.E.Transpose(gw, swap);
            if (!full.SequenceEqual(ws[2..]))
            {
                long[] axes = Enumerable.Range(2, sp).Select(i => (long)i).ToArray();
                gw = c.E.Node("Slice", [gw, c.E.Ints(new long[sp]), c.E.Ints(ws[2..]), c.E.Ints(axes)]);
            }
            return gw;
        });
        if (c.Node.Input.Count > 2 && c.Node.Input[2].Length > 0)
            c.Set(2, () => c.E.ReduceSum(c.DY, [0, .. Enumerable.Range(2, sp).Select(i => (long)i)], keepdims: false));
    }
}
