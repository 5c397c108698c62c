using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using static Amalgam.Engine.Tests.Autodiff.TinyGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>The session binds our buffers: parameters changed in place are seen by the next step,
/// gradients land in the same tensors each step, and steps repeat bit for bit.</summary>
public sealed class GradientSessionTests
{
    [Test]
    public void ParametersBoundFromCallerBuffersAndGradientsWrittenInPlace()
    {
        // y = x W^T (Gemm, transB), loss = 0.5 sum y^2, dL/dW = y^T x: reference in float64 here.
        var g = new TinyGraph(17, DataType.Double);
        string x = g.Data([3, 4]);
        string unused = g.Param([2]);                 // reaches nothing: its gradient is zero
        string w = g.Param([5, 4]);
        string y = g.Node("Gemm", [x, w], A("transB", 1L));
        var model = new OnnxModel(g.Build(y), ".", "tiny.onnx");
        using var wBuffer = model.ReadInitializer(w);
        using var xBuffer = Tensor.Allocate(x, DType.F64, [3, 4]);
        g.DataValues[x].AsSpan().CopyTo(xBuffer.Write<double>());
        var request = new GradientRequest([unused, w], g.DataShapes, GradientLoss.HalfSumOfSquares);
        using var session = GradientSession.Create(model, request, new SessionSettings { IntraOpThreads = 1 },
            new Dictionary<string, Tensor> { [w] = wBuffer }, new Dictionary<string, Tensor> { [x] = xBuffer });
        Assert.That(session.Parameters[w], Is.SameAs(wBuffer));
        Assert.That(session.Inputs[x], Is.SameAs(xBuffer));
        using (var wrong = Tensor.Allocate(w, DType.F32, [5, 4]))
            Assert.That(() => GradientSession.Create(model, request, null, new Dictionary<string, Tensor> { [w] = wrong }),
                Throws.TypeOf<BadInputException>().With.Message.Contain($"parameter '{w}'"));
        var gradTensor = session.Gradients[w];

        for (int round = 0; round < 2; round++)
        {
            var (loss, grad) = Reference(g.DataValues[x], wBuffer.Read<double>().ToArray());
            Assert.That(session.Step(), Is.EqualTo(loss).Within(1e-12 * loss));
            Assert.That(session.Gradients[w], Is.SameAs(gradTensor));
            var got = gradTensor.Read<double>().ToArray();
            for (int i = 0; i < got.Length; i++) Assert.That(got[i], Is.EqualTo(grad[i]).Within(1e-12 * grad.Max(Math.Abs)));
            Assert.That(session.Gradients[unused].Read<double>().ToArray(), Is.All.EqualTo(0.0));
            var span = wBuffer.Write<double>();
            for (int i = 0; i < span.Length; i++) span[i] = span[i] * 2 - 0.1;   // an "optimiser step" in place
        }
    }

    /// <summary>Repeated steps, and steps with one or two intra-op threads, give the same bits.</summary>
    [Test]
    public void StepsRepeatBitForBitAtAnyThreadCount()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        var parameters = model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
        var request = new GradientRequest(parameters, new Dictionary<string, long[]> { ["pixel_values"] = [4, 3, 28, 28] }, GradientLoss.Entropy);
        Dictionary<string, float[]>? reference = null;
        double referenceLoss = 0;
        foreach (int threads in new[] { 1, 2 })
        {
            using var session = GradientSession.Create(model, request, new SessionSettings { IntraOpThreads = threads });
            var pixels = session.Inputs["pixel_values"].Write<float>();
            for (int i = 0; i < pixels.Length; i++) pixels[i] = MathF.Sin(i * 0.37f);
            for (int step = 0; step < 2; step++)
            {
                double loss = session.Step();
                var grads = parameters.ToDictionary(p => p, p => session.Gradients[p].Read<float>().ToArray());
                if (reference is null) (reference, referenceLoss) = (grads, loss);
                Assert.That(loss, Is.EqualTo(referenceLoss), $"threads {threads} step {step}");
                foreach (var p in parameters) Assert.That(grads[p], Is.EqualTo(reference[p]), $"{p}, threads {threads} step {step}");
            }
        }
    }

    private static (double Loss, double[] Grad) Reference(double[] x, double[] w)
    {
        int rows = 3, k = 4, n = 5;
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
                for (int t = 0; t < k; t++) y[r * n + j] += x[r * k + t] * w[j * k + t];
        var grad = new double[n * k];
        for (int j = 0; j < n; j++)
            for (int t = 0; t < k; t++)
                for (int r = 0; r < rows; r++) grad[j * k + t] += y[r * n + j] * x[r * k + t];
        return (0.5 * y.Sum(v => v * v), grad);
    }
}
