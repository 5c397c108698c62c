using Amalgam.Engine.Evaluation;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Training;

/// <summary>
/// Forward passes of a classifier whose trained parameters are graph inputs bound to the caller's
/// tensors (so it always sees their current values, nothing copied): mean cross-entropy (float64,
/// log-sum-exp) and accuracy (argmax, first index on ties) over labelled samples, scored by
/// <see cref="LogitScore"/> as `amalgam eval` (<see cref="Evaluator"/>) scores them.
/// </summary>
internal sealed class ClassifierEvaluator : IDisposable
{
    private readonly InferenceSession _session;
    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly ModelInput _input;
    private readonly string _output;

    public ClassifierEvaluator(OnnxModel model, ModelInput input, string output, IReadOnlyList<Tensor> parameters, SessionOptions options)
    {
        var copy = new OnnxModel(model.Proto.Clone(), model.BaseDirectory, model.DisplayName);
        copy.PromoteInitializersToInputs(parameters.Select(p => p.Name));
        _session = InferenceSession.FromBytes(copy.ToInlineBytes(), options);
        _parameters = parameters;
        _input = input;
        _output = output;
    }

    public (double Loss, double Accuracy) Evaluate(Tensor samples, Tensor labels, int batchSize)
    {
        long n = samples.Shape[0];
        var y = labels.Read<long>();
        long rowBytes = samples.ByteLength / n;
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < n; start += batchSize)
        {
            long b = Math.Min(batchSize, n - start);
            var shape = _input.Dims.ToArray();
            shape[0] = b;
            using var batch = Tensor.Allocate(_input.Name, _input.DType, shape, zero: false);
            samples.Read<byte>(start * rowBytes, checked((int)(b * rowBytes))).CopyTo(batch.Write<byte>());
            var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [_input.Name] = batch };
            foreach (var p in _parameters) feed[p.Name] = p;
            using var outputs = _session.Run(feed, [_output]);
            var logits = outputs[0].Read<float>();
            int classes = checked((int)(logits.Length / b));
            for (int i = 0; i < b; i++)
            {
                long label = y[(int)(start + i)];
                if (label < 0 || label >= classes) throw new BadInputException($"labels: {label} is not a class of the model's output (0 to {classes - 1})");
                var (loss, predicted) = LogitScore.Score(logits.Slice(i * classes, classes), label);
                lossSum += loss;
                if (predicted == label) correct++;
            }
        }
        return (lossSum / n, (double)correct / n);
    }

    public void Dispose() => _session.Dispose();
}
