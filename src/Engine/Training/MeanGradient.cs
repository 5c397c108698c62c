using System.Diagnostics;
using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Training;

/// <summary>
/// The gradient of a loss averaged over all N samples, computed in fixed-size batches: one gradient
/// session for batches of <c>batchSize</c> and, when N is not a multiple of it, one more for the
/// remainder. Each session's loss is a mean over its batch (entropy, cross-entropy, argmax
/// log-probability) or a sum (half sum of squares), so batch b contributes with weight B_b / N or
/// 1 / N respectively; the result is (1/N) sum over samples of the per-sample gradient whatever the
/// batching. Accumulated in float64, rounded once to the parameter's dtype.
/// </summary>
public static class MeanGradient
{
    /// <summary>The mean loss over the samples and the mean gradient per parameter (tensors named like the parameters; caller disposes).</summary>
    public sealed record Result(double Loss, IReadOnlyDictionary<string, Tensor> Gradients) : IDisposable
    {
        public void Dispose()
        {
            foreach (var t in Gradients.Values) t.Dispose();
        }
    }

    /// <param name="workers">Gradient sessions run side by side, each on one ONNX Runtime thread (0 = one per
    /// core). Batch k always covers the same samples and is added to the sums in batch order, so the
    /// result is bit-identical for any number of workers (unlike ONNX Runtime's own intra-op threads).</param>
    public static Result Compute(OnnxModel model, IReadOnlyDictionary<string, Tensor> data, Tensor? labels, GradientLoss loss,
        IReadOnlyList<string> parameters, int batchSize, int workers = 1, IProgress<GradProgress>? progress = null,
        ComputeDevice device = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        if (data.Count == 0) throw new ArgumentException("no data inputs", nameof(data));
        long n = data.Values.First().Shape[0];
        foreach (var t in data.Values)
            if (t.Rank == 0 || t.Shape[0] != n) throw new ArgumentException($"input '{t.Name}' does not have {n} samples on its first axis", nameof(data));
        if ((loss == GradientLoss.CrossEntropy) != (labels is not null))
            throw new ArgumentException(loss == GradientLoss.CrossEntropy ? "cross-entropy needs labels" : "labels are only used by cross-entropy", nameof(labels));
        if (labels is not null && (labels.DType != DType.I64 || labels.Rank != 1 || labels.Shape[0] != n))
            throw new ArgumentException($"labels must be i64 [{n}], got {labels}", nameof(labels));

        var clock = Stopwatch.StartNew();
        long full = Math.Min(batchSize, n);
        long batches = (n + full - 1) / full;
        int threads = (int)Math.Min(batches, workers == 0 ? Environment.ProcessorCount : workers);
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        double lossSum = 0;
        long next = -1, turn = 0, done = 0;
        bool failed = false;
        object gate = new(), createGate = new();
        var options = new SessionSettings { IntraOpThreads = 1, Device = device };

        void Work()
        {
            var sessions = new Dictionary<long, GradientSession>();
            try
            {
                for (long k = Interlocked.Increment(ref next); k < batches; k = Interlocked.Increment(ref next))
                {
                    long start = k * full, b = Math.Min(full, n - start);
                    if (!sessions.TryGetValue(b, out var session))
                    {
                        var shapes = data.ToDictionary(kv => kv.Key, kv => WithBatch(kv.Value.Shape, b));
                        lock (createGate)   // the model object is only read, but one at a time keeps that obviously safe
                            sessions[b] = session = GradientSession.Create(model, new GradientRequest(parameters, shapes, loss), options);
                    }
                    foreach (var (name, t) in data) CopyRows(t, start, b, session.Inputs[name]);
                    if (labels is not null) CopyRows(labels, start, b, session.Inputs[session.Graph.Labels!.Name]);
                    double batchLoss = session.Step();
                    double weight = loss == GradientLoss.HalfSumOfSquares ? 1.0 / n : (double)b / n;
                    lock (gate)
                    {
                        while (turn != k && !failed) Monitor.Wait(gate);
                        if (failed) return;
                        lossSum += weight * batchLoss;
                        foreach (var (name, g) in session.Gradients) Accumulate(sums, name, g, weight);
                        done += b;
                        turn++;
                        Monitor.PulseAll(gate);
                        progress?.Report(new GradProgress(done, n, clock.Elapsed));
                    }
                }
            }
            catch
            {
                lock (gate)
                {
                    failed = true;
                    Monitor.PulseAll(gate);
                }
                throw;
            }
            finally
            {
                foreach (var s in sessions.Values) s.Dispose();
            }
        }

        if (threads <= 1) Work();
        else
        {
            var tasks = Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(Work, TaskCreationOptions.LongRunning)).ToArray();
            try { Task.WaitAll(tasks); }
            catch (AggregateException e)
            {
                // The first real failure (others only stopped because of it).
                var first = e.Flatten().InnerExceptions[0];
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
        }
        return new Result(lossSum, ToTensors(model, parameters, sums));
    }

    private static long[] WithBatch(ReadOnlySpan<long> shape, long batch)
    {
        var s = shape.ToArray();
        s[0] = batch;
        return s;
    }

    /// <summary>Copies rows [start, start + count) of <paramref name="source"/> into <paramref name="target"/> (same row layout).</summary>
    private static void CopyRows(Tensor source, long start, long count, Tensor target)
    {
        long rowBytes = source.ByteLength / source.Shape[0];
        if (target.ByteLength != rowBytes * count) throw new InvalidOperationException($"batch buffer '{target.Name}' does not hold {count} rows of '{source.Name}'");
        source.Read<byte>(start * rowBytes, checked((int)(count * rowBytes))).CopyTo(target.Write<byte>());
    }

    private static void Accumulate(Dictionary<string, double[]> sums, string name, Tensor g, double weight)
    {
        if (!sums.TryGetValue(name, out var acc)) sums[name] = acc = new double[g.ElementCount];
        if (g.DType == DType.F64)
        {
            var v = g.Read<double>();
            for (int i = 0; i < acc.Length; i++) acc[i] += weight * v[i];
        }
        else
        {
            var v = g.Read<float>();
            for (int i = 0; i < acc.Length; i++) acc[i] += weight * v[i];
        }
    }

    private static Dictionary<string, Tensor> ToTensors(OnnxModel model, IReadOnlyList<string> parameters, Dictionary<string, double[]> sums)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var infos = model.ListInitializers().ToDictionary(i => i.Name, StringComparer.Ordinal);
        try
        {
            foreach (string p in parameters)
            {
                var info = infos[p];
                var t = Tensor.Allocate(p, info.DType!.Value, info.Shape);
                result[p] = t;
                var acc = sums[p];
                if (t.DType == DType.F64) acc.CopyTo(t.Write<double>());
                else
                {
                    var w = t.Write<float>();
                    for (int i = 0; i < acc.Length; i++) w[i] = (float)acc[i];
                }
            }
            return result;
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
    }
}
