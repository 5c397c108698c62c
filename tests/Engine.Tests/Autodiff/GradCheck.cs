using Amalgam.Engine.Autodiff;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>One finite-difference case: a tiny graph built at an opset and float type.</summary>
internal static class GradCheck
{
    /// <summary>float64: central differences with h = 1e-6 leave about 1e-9 relative error.</summary>
    public const double F64Tolerance = 1e-6;

    /// <summary>float32 (ops ONNX Runtime runs only in float32): h = 1e-2, rounding and truncation
    /// leave about 1e-4..1e-3.</summary>
    public const double F32Tolerance = 5e-3;

    public static void Run(Func<TinyGraph, string> build, int opset = 17, DataType type = DataType.Double,
        GradientLoss loss = GradientLoss.HalfSumOfSquares, long[]? labels = null, int seed = 1, double imWeight = 1)
    {
        var g = new TinyGraph(opset, type, seed);
        string output = build(g);
        double err = FiniteDifferences.WorstRelativeError(g, output, loss, labels, imWeight);
        Assert.That(err, Is.LessThanOrEqualTo(type == DataType.Double ? F64Tolerance : F32Tolerance));
    }
}
