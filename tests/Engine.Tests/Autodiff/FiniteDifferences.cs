using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>
/// Checks the gradient graph of a tiny model against central finite differences of its forward
/// graph, both run in ONNX Runtime; the loss of the perturbed forward outputs is computed here from
/// its formula in float64.
/// </summary>
internal static class FiniteDifferences
{
    private static readonly SessionSettings OneThread = new() { IntraOpThreads = 1 };

    /// <summary>Worst over parameters of max_i |analytic_i - fd_i| / max_i |fd_i|; also checks the loss value.</summary>
    public static double WorstRelativeError(TinyGraph g, string output, GradientLoss loss = GradientLoss.HalfSumOfSquares, long[]? labels = null,
        double imWeight = 1)
    {
        bool f64 = g.FloatType == DataType.Double;
        double h = f64 ? 1e-6 : 1e-2;
        var proto = g.Build(output);
        var model = new OnnxModel(proto.Clone(), ".", "tiny");
        var request = new GradientRequest(g.Parameters, g.DataShapes, loss) { ImWeight = imWeight };
        using var session = GradientSession.Create(model, request, OneThread);
        foreach (var (name, values) in g.DataValues) Fill(session.Inputs[name], values);
        if (labels is not null) labels.AsSpan().CopyTo(session.Inputs["labels"].Write<long>());
        double analyticLoss = session.Step();

        var forward = new OnnxModel(proto.Clone(), ".", "tiny-forward");
        forward.PromoteInitializersToInputs(g.Parameters);
        using var fwd = OnnxSession.FromBytes(forward.ToInlineBytes(), OneThread);
        var inputs = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, values) in g.DataValues)
            {
                inputs[name] = Tensor.Allocate(name, f64 ? DType.F64 : DType.F32, g.DataShapes[name]);
                Fill(inputs[name], values);
            }
            foreach (var p in g.Parameters) inputs[p] = model.ReadInitializer(p);
            double Loss()
            {
                using var outs = fwd.Run(inputs);
                return ReferenceLoss(loss, Values(outs[0]), outs[0].ShapeArray(), labels, imWeight);
            }
            Assert.That(analyticLoss, Is.EqualTo(Loss()).Within((f64 ? 1e-10 : 1e-5) * Math.Max(1, Math.Abs(analyticLoss))), "loss value");

            double worst = 0;
            foreach (var p in g.Parameters)
            {
                var grad = Values(session.Gradients[p]);
                var theta = inputs[p];
                var fd = new double[grad.Length];
                for (int i = 0; i < fd.Length; i++)
                {
                    double v = Get(theta, i), step = h * Math.Max(1, Math.Abs(v));
                    Set(theta, i, v + step);
                    double plus = Loss();
                    Set(theta, i, v - step);
                    double minus = Loss();
                    Set(theta, i, v);
                    fd[i] = (plus - minus) / (2 * step);
                }
                double maxFd = fd.Max(Math.Abs), maxDiff = fd.Select((f, i) => Math.Abs(f - grad[i])).Max();
                Assert.That(maxFd, Is.GreaterThan(1e-6), $"{p}: the finite-difference gradient is zero, the test checks nothing");
                worst = Math.Max(worst, maxDiff / maxFd);
            }
            return worst;
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    public static double ReferenceLoss(GradientLoss loss, double[] y, long[] shape, long[]? labels, double imWeight = 1)
    {
        if (loss == GradientLoss.HalfSumOfSquares) return 0.5 * y.Sum(v => v * v);
        int b = (int)shape[0], c = (int)shape[1];
        double total = 0;
        var pbar = new double[c];
        for (int r = 0; r < b; r++)
        {
            var row = y.Skip(r * c).Take(c).ToArray();
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            double lse = max + Math.Log(sum);
            int arg = 0;
            for (int j = 1; j < c; j++) if (row[j] > row[arg]) arg = j;
            for (int j = 0; j < c; j++) pbar[j] += Math.Exp(row[j] - lse) / b;
            total += loss switch
            {
                GradientLoss.Entropy or GradientLoss.InformationMaximisation => -Enumerable.Range(0, c).Sum(j => Math.Exp(row[j] - lse) * (row[j] - lse)),
                GradientLoss.CrossEntropy => -(row[(int)labels![r]] - lse),
                _ => row[arg] - lse,
            };
        }
        // SHOT's information maximisation: mean conditional entropy - w * entropy of the mean prediction.
        double marginal = -pbar.Sum(q => q > 0 ? q * Math.Log(q) : 0);
        return loss == GradientLoss.InformationMaximisation ? total / b - imWeight * marginal : total / b;
    }

    public static double[] Values(Tensor t) =>
        t.DType == DType.F64 ? t.Read<double>().ToArray() : t.Read<float>().ToArray().Select(v => (double)v).ToArray();

    private static void Fill(Tensor t, double[] values)
    {
        for (int i = 0; i < values.Length; i++) Set(t, i, values[i]);
    }

    private static double Get(Tensor t, int i) => t.DType == DType.F64 ? t.Read<double>()[i] : t.Read<float>()[i];

    private static void Set(Tensor t, int i, double v)
    {
        if (t.DType == DType.F64) t.Write<double>()[i] = v;
        else t.Write<float>()[i] = (float)v;
    }
}
