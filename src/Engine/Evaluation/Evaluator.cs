using System.Diagnostics;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Evaluation;

/// <summary>
/// `amalgam eval` as a library call: runs an ONNX classifier (one float output, logits [N, C]) on
/// labelled inputs and measures accuracy, mean cross-entropy and per-class accuracy. Inputs are read
/// as `amalgam grad` reads them (<see cref="SampleData"/>: .npy for single-input models, or
/// .safetensors with one tensor per model input); labels are a .npy of int64, one per sample, each in
/// [0, C). Bad input is a one-line <see cref="BadInputException"/> naming the file or option.
/// Batches run on parallel single-threaded sessions (ONNX Runtime's intra-op threads change the
/// last bits of logits) and are scored per sample, then summed in sample order, so the result is
/// bit-identical at any thread count.
/// </summary>
public static class Evaluator
{
    /// <param name="model">The .onnx classifier.</param>
    /// <param name="data">Inputs: .npy or .safetensors, samples on the first axis.</param>
    /// <param name="labels">A .npy of int64 labels, one per sample.</param>
    /// <param name="batchSize">Samples per forward pass (a model with a fixed batch axis uses its own).</param>
    /// <param name="threads">Parallel sessions; 0 = <see cref="Parallelism.MaxThreads"/>.</param>
    /// <param name="device">Where the forward passes run (CUDA needs the GPU flavour).</param>
    public static EvalResult Evaluate(string model, string data, string labels, int batchSize = 64, int threads = 0, ComputeDevice device = default)
    {
        var clock = Stopwatch.StartNew();
        if (batchSize < 1) throw new BadInputException($"--batch-size {batchSize}: must be at least 1");
        if (threads < 0) throw new BadInputException($"--threads {threads}: must be at least 1");
        if (!model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) throw new BadInputException($"{model}: --model must be an .onnx file");
        if (!File.Exists(model)) throw new BadInputException($"{model}: file not found");
        if (!File.Exists(data)) throw new BadInputException($"{data}: file not found (--data)");
        if (!File.Exists(labels)) throw new BadInputException($"{labels}: file not found (--labels)");

        var onnx = OnnxModel.Load(model);
        if (onnx.Graph.Output.Count != 1)
            throw new BadInputException($"{model}: eval needs a classifier with one output (logits [N, C]); the model has {onnx.Graph.Output.Count}");
        using var samples = SampleData.Load(onnx, data);
        long staticClasses = GradRunner.OutputClasses(onnx);
        using var y = SampleData.LoadLabels(labels, samples.Count, staticClasses);
        int batch = ModelInput.FixedBatch(onnx, data, samples.Count) ?? batchSize;

        var scores = Score(model, onnx, samples, batch, Parallelism.Resolve(threads), device);
        int classes = scores.Classes;
        var label = y.Read<long>();
        var perCount = new long[classes];
        var perCorrect = new long[classes];
        double lossSum = 0;
        long correct = 0;
        for (int i = 0; i < label.Length; i++)
        {
            if (label[i] < 0 || label[i] >= classes)
                throw new BadInputException($"{labels}: label {label[i]} at index {i} is not a class of the model's output (0 to {classes - 1})");
            var (loss, predicted) = LogitScore.Score(scores.Logits.AsSpan(i * classes, classes), label[i]);
            lossSum += loss;
            perCount[label[i]]++;
            if (predicted == label[i])
            {
                correct++;
                perCorrect[label[i]]++;
            }
        }
        long n = samples.Count;
        return new EvalResult
        {
            Accuracy = (double)correct / n,
            Loss = lossSum / n,
            Count = n,
            Correct = correct,
            ClassCount = classes,
            PerClassCount = perCount,
            PerClassCorrect = perCorrect,
            PerClassAccuracy = perCount.Select((c, i) => c == 0 ? double.NaN : (double)perCorrect[i] / c).ToArray(),
            Seconds = clock.Elapsed.TotalSeconds,
        };
    }

    /// <summary>Logits of every sample [N * C], batches spread over single-threaded sessions.</summary>
    private static (float[] Logits, int Classes) Score(string path, OnnxModel model, SampleData samples, int batchSize, int threads, ComputeDevice device)
    {
        long n = samples.Count;
        long batches = (n + batchSize - 1) / batchSize;
        int workers = (int)Math.Min(batches, threads);
        string output = model.Graph.Output[0].Name;
        var options = new SessionSettings { IntraOpThreads = 1, InterOpThreads = 1, Device = device };
        float[]? logits = null;
        int classes = 0;
        object gate = new();
        long next = -1;

        void Work()
        {
            using var session = OnnxSession.FromFile(path, options);
            for (long k = Interlocked.Increment(ref next); k < batches; k = Interlocked.Increment(ref next))
            {
                long start = k * batchSize, b = Math.Min(batchSize, n - start);
                var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                try
                {
                    foreach (var (name, t) in samples.Inputs) feed[name] = SampleRows.Copy(t, start, b);
                    using var outputs = session.Run(feed, [output]);
                    var o = outputs[0];
                    if (o.DType != DType.F32 || o.Rank != 2 || o.Shape[0] != b || o.Shape[1] < 1)
                        throw new BadInputException($"{path}: eval needs logits f32 [N, C]; output '{output}' is {o.DType.ShortName()} {Shapes.Format(o.Shape)} for {b} samples");
                    lock (gate)
                    {
                        if (logits is null)
                        {
                            classes = checked((int)o.Shape[1]);
                            logits = new float[checked(n * classes)];
                        }
                        else if (o.Shape[1] != classes)
                            throw new BadInputException($"{path}: output '{output}' has {o.Shape[1]} classes for one batch and {classes} for another");
                    }
                    o.Read<float>().CopyTo(logits.AsSpan(checked((int)(start * classes)), checked((int)(b * classes))));
                }
                finally
                {
                    foreach (var t in feed.Values) t.Dispose();
                }
            }
        }

        if (workers <= 1) Work();
        else
        {
            var tasks = Enumerable.Range(0, workers).Select(_ => Task.Factory.StartNew(Work, TaskCreationOptions.LongRunning)).ToArray();
            try { Task.WaitAll(tasks); }
            catch (AggregateException e)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.Flatten().InnerExceptions[0]).Throw();
            }
        }
        return (logits!, classes);
    }
}
