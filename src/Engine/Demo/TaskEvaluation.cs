using Amalgam.Engine.Evaluation;
using Amalgam.Kernels;

namespace Amalgam.Engine.Demo;

/// <summary>
/// Accuracy of an ONNX classifier on a labelled test split (argmax of the logits equals the label),
/// in-process through <see cref="Evaluator"/> (`amalgam eval`). One single-threaded session per
/// call: the demo runs tasks in parallel, and the result does not depend on the thread count.
/// </summary>
internal static class TaskEvaluation
{
    public const int BatchSize = 256;

    public static double Accuracy(string modelPath, string inputsPath, string labelsPath, ComputeDevice device = default) =>
        Evaluator.Evaluate(modelPath, inputsPath, labelsPath, BatchSize, threads: 1, device).Accuracy;
}
