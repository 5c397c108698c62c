using System.Diagnostics;
using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.Kernels.Optim;
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
        var input = Validate(request, out long n, out int batch);
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
            var shape = input.Dims.ToArray();
            shape[0] = batch / microBatches;
            var gradRequest = new GradientRequest(names, new Dictionary<string, long[]> { [input.Name] = shape }, GradientLoss.CrossEntropy) { Output = request.Output };
            using var stepper = new DataParallelStep(model, gradRequest, input.Name, microBatches, request.Threads, byName);
            var options = new SessionOptions { IntraOpThreads = request.Threads };
            using var optimizer = request.CreateOptimizer?.Invoke(parameters) ?? new Adam(parameters, new AdamSettings(request.LearningRate));
            using var evaluator = new ClassifierEvaluator(model, input, output, parameters, options);
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
                    double loss = stepper.Step(request.Inputs, request.Labels, indices);
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
                    accuracy = evaluator.Evaluate(request.Inputs, request.Labels, batch).Accuracy;
                    trainAcc.Add(accuracy.Value);
                }
                double? testLoss = null, testAccuracy = null;
                if (request.TestInputs is not null)
                {
                    var (l, a) = evaluator.Evaluate(request.TestInputs, request.TestLabels!, batch);
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

    private static ModelInput Validate(TrainRequest r, out long n, out int batch)
    {
        var inputs = ModelInput.Of(r.Model);
        if (inputs.Count != 1) throw new BadInputException($"{r.Model.DisplayName}: the trainer feeds single-input models; this one has {string.Join(", ", inputs.Select(i => i.Name))}");
        var input = inputs[0];
        if (input.Dims.Length == 0 || input.Dims.Skip(1).Any(d => d < 0))
            throw new BadInputException($"{r.Model.DisplayName}: input '{input.Name}' {input.FormatDims()} needs fixed dims after the batch axis");
        if (input.Dims[0] >= 0)
            throw new BadInputException($"{r.Model.DisplayName}: input '{input.Name}' {input.FormatDims()} fixes the batch size; the trainer needs a symbolic batch axis (export with dynamic_axes)");
        if (r.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(r.Epochs), r.Epochs, "must be at least 1");
        if (r.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(r.BatchSize), r.BatchSize, "must be at least 1");
        if (r.Threads < 0) throw new ArgumentOutOfRangeException(nameof(r.Threads), r.Threads, "must be >= 0");
        long perSample = input.Dims.Skip(1).Aggregate(1L, (a, b) => a * b);
        n = CheckSamples("training", r.Inputs, r.Labels, input, perSample);
        if ((r.TestInputs is null) != (r.TestLabels is null)) throw new ArgumentException("give both TestInputs and TestLabels, or neither");
        if (r.TestInputs is not null) CheckSamples("test", r.TestInputs, r.TestLabels!, input, perSample);
        if (n > int.MaxValue) throw new ArgumentException("too many samples");
        batch = (int)Math.Min(r.BatchSize, n);
        return input;
    }

    private static long CheckSamples(string what, Tensor samples, Tensor labels, ModelInput input, long perSample)
    {
        if (samples.Rank == 0 || samples.Shape[0] == 0 || samples.DType != input.DType || samples.ElementCount != samples.Shape[0] * perSample)
            throw new BadInputException($"{what} samples {samples}: expected {input.DType.ShortName()} [N, ...] with {perSample} values per sample (model input '{input.Name}' {input.FormatDims()})");
        long n = samples.Shape[0];
        if (labels.DType != DType.I64 || labels.Rank != 1 || labels.Shape[0] != n)
            throw new BadInputException($"{what} labels {labels}: expected i64 [{n}]");
        return n;
    }
}
