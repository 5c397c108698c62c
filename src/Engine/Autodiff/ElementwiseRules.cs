namespace Amalgam.Engine.Autodiff;

/// <summary>Backward steps of element-wise ops (numpy broadcasting: operand gradients are summed
/// back to the operand's shape).</summary>
internal static class ElementwiseRules
{
    public static void Register(Dictionary<string, GradientRule> t)
    {
        t["Identity"] = c => c.Set(0, () => c.DY);
        t["Add"] = c => { c.SetBroadcast(0, () => c.DY); c.SetBroadcast(1, () => c.DY); };
        t["Sub"] = c => { c.SetBroadcast(0, () => c.DY); c.SetBroadcast(1, () => c.E.Neg(c.DY)); };
        t["Mul"] = c => { c.SetBroadcast(0, () => c.E.Mul(c.DY, c.X(1))); c.SetBroadcast(1, () => c.E.Mul(c.DY, c.X(0))); };
        // y = a / b: da = dy / b, db = -dy * a / b^2 = -dy * y / b.
        t["Div"] = c =>
        {
            c.SetBroadcast(0, () => c.E.Div(c.DY, c.X(1)));
            c.SetBroadcast(1, () => c.E.Neg(c.E.Div(c.E.Mul(c.DY, c.Y()), c.X(1))));
        };
        t["Pow"] = Pow;
        t["Neg"] = c => c.Set(0, () => c.E.Neg(c.DY));
        t["Exp"] = c => c.Set(0, () => c.E.Mul(c.DY, c.Y()));
        t["Log"] = c => c.Set(0, () => c.E.Div(c.DY, c.X(0)));
        // d sqrt(x) = dy / (2 sqrt(x)).
        t["Sqrt"] = c => c.Set(0, () => c.E.Div(c.E.Mul(c.DY, c.E.Scalar(0.5)), c.Y()));
        // d erf(x) = 2/sqrt(pi) exp(-x^2).
        t["Erf"] = c => c.Set(0, () => c.E.Mul(c.E.Mul(c.DY, c.E.Scalar(2 / Math.Sqrt(Math.PI))), c.E.Exp(c.E.Neg(c.E.Mul(c.X(0), c.X(0))))));
        t["Tanh"] = c => c.Set(0, () => c.E.Mul(c.DY, c.E.Sub(c.E.Scalar(1), c.E.Mul(c.Y(), c.Y()))));
        t["Sigmoid"] = c => c.Set(0, () => c.E.Mul(c.DY, c.E.Mul(c.Y(), c.E.Sub(c.E.Scalar(1), c.Y()))));
        t["Relu"] = c => c.Set(0, () =>
            c.E.Node("Where", [c.E.Node("Greater", [c.X(0), c.E.Scalar(0)]), c.DY, c.E.Scalar(0)]));
        t["Where"] = c =>
        {
            c.SetBroadcast(1, () => c.E.Node("Where", [c.X(0), c.DY, c.E.Scalar(0)]));
            c.SetBroadcast(2, () => c.E.Node("Where", [c.X(0), c.E.Scalar(0), c.DY]));
        };
        // Float-to-float casts pass the gradient back in the input's type.
        t["Cast"] = c => c.Set(0, () => c.E.Cast(c.DY, c.InMeta[0]!.ElemType));
        t["CumSum"] = c => c.Set(0, () => c.E.Node("CumSum", [c.DY, c.X(1)],
            NodeAttributes.Attr("exclusive", c.Node.Int("exclusive", 0)),
            NodeAttributes.Attr("reverse", 1 - c.Node.Int("reverse", 0))));
    }

    /// <summary>y = a^b: da = dy * b * a^(b-1); db = dy * y * ln a.</summary>
    private static void Pow(RuleContext c)
    {
        var b = c.InMeta[1]!;
        c.SetBroadcast(0, () =>
        {
            string bMinus1, bAsA;
            if (b.Value is { Count: 1 } bv)
            {
                double e = bv.Float(0);
                if (e == 2) return c.E.Mul(c.DY, c.E.Mul(c.X(0), c.E.Scalar(2)));
                bMinus1 = c.E.ScalarOf(b.ElemType, e - 1);
                bAsA = c.E.Scalar(e);
            }
            else
            {
                bMinus1 = c.E.Sub(c.X(1), c.E.ScalarOf(b.ElemType, 1));
                bAsA = b.ElemType == c.E.FloatType ? c.X(1) : c.E.Cast(c.X(1), c.E.FloatType);
            }
            return c.E.Mul(c.DY, c.E.Mul(bAsA, c.E.Node("Pow", [c.X(0), bMinus1])));
        });
        c.SetBroadcast(1, () => c.E.Mul(c.E.Mul(c.DY, c.Y()), c.E.Node("Log", [c.X(0)])));
    }
}
