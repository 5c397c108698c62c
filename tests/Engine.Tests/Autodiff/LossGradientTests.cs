using Amalgam.Engine.Autodiff;
using static Amalgam.Engine.Tests.Autodiff.TinyGraph;

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

    [Test]
    public void LossesAtOpset13And18() 
    {
        GradCheck.Run(Classifier, opset: 13, loss: GradientLoss.Entropy);
        GradCheck.Run(Classifier, opset: 18, loss: GradientLoss.CrossEntropy, labels: [1, 1, 3]);
    }
}
