using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Demo;

/// <summary>
/// Accuracy of an ONNX classifier on a labelled test split (argmax of the logits equals the label;
/// the first index wins ties), in-process through <see cref="ClassifierEvaluator"/>. The one place the
/// demo evaluates a model, so it can switch to Amalgam.Engine.Evaluation.Evaluator in one edit.
/// Single-threaded sessions: the result does not depend on the thread count (the demo runs tasks in parallel).
/// </summary>
internal static class TaskEvaluation
{
    public const int BatchSize = 256;

    public static double Accuracy(string modelPath, string inputsPath, string labelsPath)
    {
        var model = OnnxModel.Load(modelPath);
        var inputs = ModelInput.Of(model);
        if (inputs.Count != 1)
            throw new BadInputException($"{modelPath}: the demo evaluates single-input classifiers; this model has inputs {string.Join(", ", inputs.Select(i => i.Name))}");
        if (model.Graph.Output.Count == 0) throw new BadInputException($"{modelPath}: the model has no outputs");
        using var data = SampleData.Load(model, inputsPath);
        using var labels = SampleData.LoadLabels(labelsPath, data.Count, classes: 0);
        using var evaluator = new ClassifierEvaluator(model, inputs[0], model.Graph.Output[0].Name, [], new SessionOptions { IntraOpThreads = 1 });
        return evaluator.Evaluate(data.Inputs[inputs[0].Name], labels, BatchSize).Accuracy;
    }
}
