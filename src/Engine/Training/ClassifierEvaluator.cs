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
    private readonly OnnxSession _session;
    private readonly IReadOnlyList<Tensor> _parameters;
    private readonly IReadOnlyList<ModelInput> _inputs;
    private readonly string _output;

    public ClassifierEvaluator(OnnxModel model, IReadOnlyList<ModelInput> inputs, string output, IReadOnlyList<Tensor> parameters, SessionSettings options)
    {
        var copy = new OnnxModel(model.Proto.Clone(), model.BaseDirectory, model.DisplayName);
        copy.PromoteInitializersToInputs(parameters.Select(p => p.Name));
        _session = OnnxSession.FromBytes(copy.ToInlineBytes(), options);
        _parameters = parameters;
        _inputs = inputs;
        _output = output;
    }

    /// <summary>Mean loss and accuracy over <paramref name="samples"/> (by model input name, samples on the first axis).</summary>
    public (double Loss, double Accuracy) Evaluate(IReadOnlyDictionary<string, Tensor> samples, Tensor labels, int batchSize)
    {
        long n = samples.Values.First().Shape[0];
        var y = labels.Read<long>();
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < n; start += batchSize)
        {
            long b = Math.Min(batchSize, n - start);
            var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var batches = new List<Tensor>();
            foreach (var input in _inputs)
            {
                var data = samples[input.Name];
                var batch = SampleRows.Copy(data, start, b, input.BatchShape(data, b));
                batches.Add(batch);
                feed[input.Name] = batch;
            }
            foreach (var p in _parameters) feed[p.Name] = p;
            SessionOutputs outputs;
            try { outputs = _session.Run(feed, [_output]); }
            finally { foreach (var t in batches) t.Dispose(); }
            using var _ = outputs;
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
