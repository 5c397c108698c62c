using Amalgam.Engine.Autodiff;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using static Amalgam.Engine.Tests.Autodiff.TinyGraph;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>The four losses on a small classifier (data input, Gemm, Tanh, Gemm to logits [3, 5]):
/// loss value against its float64 formula and gradients against central finite differences.</summary>
public sealed class LossGradientTests
{
    private static string Classifier(TinyGraph g)
    {
        string x = g.Data([3, 4]);
        string h = g.Node("Tanh", [g.Node("Gemm", [x, g.Param([6, 4]), g.Param([6])], A("transB", 1L))]);
        return g.Node("Gemm", [h, g.Param([6, 5]), g.Param([5])]);
    }

    [TestCase(GradientLoss.Entropy)]
    [TestCase(GradientLoss.CrossEntropy)]
    [TestCase(GradientLoss.ArgmaxLogProbability)]
    [TestCase(GradientLoss.HalfSumOfSquares)]
    public void LossValueAndGradients(GradientLoss loss) =>
        GradCheck.Run(Classifier, loss: loss, labels: loss == GradientLoss.CrossEntropy ? [4, 0, 2] : null);

    /// <summary>SHOT's information maximisation in float64: the loss value against its formula (in
    /// <see cref="FiniteDifferences.ReferenceLoss"/>) and every gradient against finite differences.</summary>
    [TestCase(1.0)]
    [TestCase(0.3)]
    [TestCase(2.5)]
    public void InformationMaximisationValueAndGradients(double weight) =>
        GradCheck.Run(Classifier, loss: GradientLoss.InformationMaximisation, imWeight: weight);

    /// <summary>With w = 0 the marginal term adds exact zeros: loss and gradients are the entropy loss's bits (float32).</summary>
    [Test]
    public void InformationMaximisationWithZeroWeightIsEntropyBitForBit()
    {
        var g = new TinyGraph(17, DataType.Float, 3);
        string output = Classifier(g);
        var model = new OnnxModel(g.Build(output), ".", "tiny");
        var results = new List<(double Loss, float[][] Gradients)>();
        foreach (var request in new[]
                 {
                     new GradientRequest(g.Parameters, g.DataShapes, GradientLoss.Entropy),
                     new GradientRequest(g.Parameters, g.DataShapes, GradientLoss.InformationMaximisation) { ImWeight = 0 },
                     new GradientRequest(g.Parameters, g.DataShapes, GradientLoss.InformationMaximisation) { ImWeight = 1 },
                 })
        {
            using var session = GradientSession.Create(model, request, new SessionSettings { IntraOpThreads = 1 });
            foreach (var (name, values) in g.DataValues)
            {
                var span = session.Inputs[name].Write<float>();
                for (int i = 0; i < values.Length; i++) span[i] = (float)values[i];
            }
            double loss = session.Step();
            results.Add((loss, g.Parameters.Select(p => session.Gradients[p].Read<float>().ToArray()).ToArray()));
        }
        Assert.That(BitConverter.DoubleToInt64Bits(results[1].Loss), Is.EqualTo(BitConverter.DoubleToInt64Bits(results[0].Loss)));
        for (int p = 0; p < g.Parameters.Count; p++)
            Assert.That(results[1].Gradients[p].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(results[0].Gradients[p].Select(BitConverter.SingleToInt32Bits)), g.Parameters[p]);
        // The weight reaches the graph: w = 1 lowers the loss by the (positive) marginal entropy.
        Assert.That(results[2].Loss, Is.LessThan(results[0].Loss - 0.1));
    }

    [Test]
    public void LossesAtOpset13And18() 
    {
        GradCheck.Run(Classifier, opset: 13, loss: GradientLoss.Entropy);
        GradCheck.Run(Classifier, opset: 18, loss: GradientLoss.CrossEntropy, labels: [1, 1, 3]);
    }
}
