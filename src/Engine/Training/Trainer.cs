using System.Diagnostics;
using Amalgam.Engine.Autodiff;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Training;

/// <summary>
/// Trains or fine-tunes an ONNX classifier with cross-entropy: one gradient session (fixed batch
/// size) bound to parameter tensors the optimiser updates in place; each epoch a seeded
/// permutation, batches gathered into the session's input buffers; at each epoch end a forward
/// evaluation (training set and, if given, test set). Finally the trained values replace the
/// model's initializers and the model is saved (temp file, then rename) when an output is given.
/// </summary>
public static class Trainer
{
    public static TrainResult Train(TrainRequest request)
    {
        var clock = Stopwatch.StartNew();
        var model = request.Model;
        var (inputs, train, test) = Validate(request, out long n, out int batch);
        string output = request.Output ?? model.Graph.Output[0].Name;
        var names = request.Parameters?.ToList() ?? GradRunner.SelectParameters(model, null);
        foreach (string p in names)
            if (model.GetInitializer(p).DataType != (int)Onnx.TensorProto.Types.DataType.Float)
                throw new BadInputException($"{model.DisplayName}: parameter '{p}' is not float32; the trainer updates f32 parameters");

        var parameters = new List<Tensor>();
        try
        {
            foreach (string p in names) parameters.Add(model.ReadInitializer(p));
            var byName = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
            int microBatches = MicroBatches(request, batch);
            var shapes = inputs.ToDictionary(i => i.Name, i => i.BatchShape(train[i.Name], batch / microBatches), StringComparer.Ordinal);
            var gradRequest = new GradientRequest(names, shapes, GradientLoss.CrossEntropy) { Output = request.Output };
            using var stepper = new DataParallelStep(model, gradRequest, microBatches, request.Threads, byName);
            var options = new SessionSettings { IntraOpThreads = request.Threads };
            using var optimizer = request.CreateOptimizer?.Invoke(parameters) ?? new AdamOptimizer(parameters, new AdamSettings(request.LearningRate));
            using var evaluator = new ClassifierEvaluator(model, inputs, output, parameters, options);
            var order = Enumerable.Range(0, checked((int)n)).ToArray();
            var shuffle = new Shuffle(request.Seed);
            long stepsPerEpoch = n / batch, totalSteps = stepsPerEpoch * request.Epochs, step = 0;
            var epochLosses = new List<double>();
            var trainAcc = new List<double>();
            var testLosses = new List<double>();
            var testAcc = new List<double>();
            for (int epoch = 1; epoch <= request.Epochs; epoch++)
            {
                shuffle.Permute(order);
                double lossSum = 0;
                for (long s = 0; s < stepsPerEpoch; s++)
                {
                    var indices = order.AsSpan(checked((int)(s * batch)), batch);
                    double loss = stepper.Step(train, request.Labels, indices);
                    optimizer.Step(stepper.Gradients);
                    lossSum += loss;
                    step++;
                    request.Progress?.Report(new TrainProgress(epoch, step, totalSteps, loss, clock.Elapsed));
                }
                double epochLoss = lossSum / stepsPerEpoch;
                epochLosses.Add(epochLoss);
                double? accuracy = null;
                if (request.EvaluateTrainingSet)
                {
                    accuracy = evaluator.Evaluate(train, request.Labels, batch).Accuracy;
                    trainAcc.Add(accuracy.Value);
                }
                double? testLoss = null, testAccuracy = null;
                if (test is not null)
                {
                    var (l, a) = evaluator.Evaluate(test, request.TestLabels!, batch);
                    testLosses.Add(l);
                    testAcc.Add(a);
                    (testLoss, testAccuracy) = (l, a);
                }
                request.Progress?.Report(new TrainProgress(epoch, step, totalSteps, epochLoss, clock.Elapsed)
                {
                    EpochEnd = true, TrainAccuracy = accuracy, TestLoss = testLoss, TestAccuracy = testAccuracy,
                });
            }
            foreach (var p in parameters) model.ReplaceInitializer(p.Name, p);
            if (request.Out is not null) model.Save(request.Out);
            return new TrainResult(epochLosses, trainAcc, testLosses, testAcc, step, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }

    /// <summary>BatchSize / MicroBatchSize (1 without micro-batches); the micro-batch size must divide the batch.</summary>
    private static int MicroBatches(TrainRequest r, int batch)
    {
        if (r.MicroBatchSize is not { } micro || micro >= batch) return 1;
        if (micro < 1 || batch % micro != 0)
            throw new ArgumentOutOfRangeException(nameof(r.MicroBatchSize), micro, $"must be at least 1 and divide the batch size {batch}");
        return batch / micro;
    }

    /// <summary>The model's inputs and the training (and test) samples by input name, checked against each other.</summary>
    private static (IReadOnlyList<ModelInput> Inputs, IReadOnlyDictionary<string, Tensor> Train, IReadOnlyDictionary<string, Tensor>? Test) Validate(
        TrainRequest r, out long n, out int batch)
    {
        var inputs = ModelInput.Of(r.Model);
        foreach (var input in inputs)
        {
            if (input.Dims.Length == 0)
                throw new BadInputException($"{r.Model.DisplayName}: input '{input.Name}' {input.FormatDims()} needs a batch axis");
            if (input.Dims[0] >= 0)
                throw new BadInputException($"{r.Model.DisplayName}: input '{input.Name}' {input.FormatDims()} fixes the batch size; the trainer needs a symbolic batch axis (export with dynamic_axes)");
        }
        if (r.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(r.Epochs), r.Epochs, "must be at least 1");
        if (r.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(r.BatchSize), r.BatchSize, "must be at least 1");
        if (r.Threads < 0) throw new ArgumentOutOfRangeException(nameof(r.Threads), r.Threads, "must be >= 0");
        var train = SampleSet("training", r.Inputs, r.InputSet, inputs, r.Model)
            ?? throw new ArgumentException("give the training samples: Inputs (single-input models) or InputSet");
        n = CheckSamples("training", train, r.Labels, inputs);
        var test = SampleSet("test", r.TestInputs, r.TestInputSet, inputs, r.Model);
        if ((test is null) != (r.TestLabels is null)) throw new ArgumentException("give both test samples and TestLabels, or neither");
        if (test is not null) CheckSamples("test", test, r.TestLabels!, inputs);
        if (n > int.MaxValue) throw new ArgumentException("too many samples");
        batch = (int)Math.Min(r.BatchSize, n);
        return (inputs, train, test);
    }

    /// <summary>
    /// Samples by input name: a single tensor for a single-input model (reshaped view semantics: it only
    /// needs as many elements per sample as the input), or one tensor per input.
    /// </summary>
    private static IReadOnlyDictionary<string, Tensor>? SampleSet(string what, Tensor? single, IReadOnlyDictionary<string, Tensor>? set,
        IReadOnlyList<ModelInput> inputs, OnnxModel model)
    {
        if (single is not null && set is not null) throw new ArgumentException($"{what} samples: give a single tensor or a set by input name, not both");
        if (set is not null)
        {
            // Only what the model reads (a tokenizer may give token_type_ids to a model without them).
            var known = inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            return set.Where(kv => known.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        }
        if (single is null) return null;
        if (inputs.Count != 1)
            throw new BadInputException($"{model.DisplayName}: the model has several inputs ({string.Join(", ", inputs.Select(i => i.Name))}); give its {what} samples by input name");
        return new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputs[0].Name] = single };
    }

    private static long CheckSamples(string what, IReadOnlyDictionary<string, Tensor> set, Tensor labels, IReadOnlyList<ModelInput> inputs)
    {
        long n = -1;
        foreach (var input in inputs)
        {
            if (!set.TryGetValue(input.Name, out var samples))
                throw new BadInputException($"{what} samples: no tensor for model input '{input.Name}' (given: {string.Join(", ", set.Keys)})");
            bool fixedRows = input.Dims.Skip(1).All(d => d >= 0);
            long perSample = fixedRows ? input.Dims.Skip(1).Aggregate(1L, (a, b) => a * b) : -1;
            bool fits = samples.Rank > 0 && samples.Shape[0] > 0 && samples.DType == input.DType
                && (fixedRows ? samples.ElementCount == samples.Shape[0] * perSample : input.Fits(samples.Shape));
            if (!fits)
                throw new BadInputException($"{what} samples {samples}: expected {input.DType.ShortName()} [N, ...] " +
                    (fixedRows ? $"with {perSample} values per sample" : "with the model's fixed dims") + $" (model input '{input.Name}' {input.FormatDims()})");
            if (n >= 0 && samples.Shape[0] != n)
                throw new BadInputException($"{what} samples {samples}: {samples.Shape[0]} samples, but the other inputs have {n}");
            n = samples.Shape[0];
        }
        if (labels.DType != DType.I64 || labels.Rank != 1 || labels.Shape[0] != n)
            throw new BadInputException($"{what} labels {labels}: expected i64 [{n}]");
        return n;
    }
}
