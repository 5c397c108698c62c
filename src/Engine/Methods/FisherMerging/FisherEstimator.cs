using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Methods.FisherMerging;

/// <summary>
/// The diagonal empirical Fisher of one model at its own weights, without labels:
/// F = (1/n) sum_i g_i^2 with g_i = d log p(y_hat_i | x_i) / d theta and y_hat_i the model's own
/// argmax for sample i (Matena and Raffel, NeurIPS 2022, eq. 4 with the predicted class).
/// Squares of per-sample gradients need one gradient per sample: each is a batch-1 step of a
/// <see cref="GradientSession"/> with <see cref="GradientLoss.ArgmaxLogProbability"/> (its loss at
/// batch 1 is exactly log p(argmax | x)). Workers each own a single-threaded session (ONNX Runtime's
/// intra-op threads change the last bits of a gradient; one thread per session does not) and take
/// samples in turn; squares are added to float64 sums strictly in sample order, so F does not depend
/// on the number of workers. F is rounded once to f32 (the merge reads f32 tiles; the floor 1e-6 is far
/// above f32's smallest normal).
/// </summary>
public static class FisherEstimator
{
    /// <summary>Fisher per parameter as f32 tensors of the parameter's shape (named like the parameters; caller disposes) over samples [0, <paramref name="samples"/>) of <paramref name="data"/>.</summary>
    /// <param name="data">Input tensors by model input name, samples on the first axis (at least <paramref name="samples"/>).</param>
    /// <param name="workers">Parallel single-threaded sessions (0 = <see cref="Parallelism.MaxThreads"/>); the result does not depend on it.</param>
    /// <param name="progress">Called with the number of samples done, in order, from any worker.</param>
    public static Dictionary<string, Tensor> Compute(OnnxModel model, IReadOnlyDictionary<string, Tensor> data, IReadOnlyList<string> parameters,
        long samples, int workers = 0, Action<long>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        if (data.Count == 0) throw new ArgumentException("no data inputs", nameof(data));
        foreach (var t in data.Values)
            if (t.Rank == 0 || t.Shape[0] < samples) throw new ArgumentException($"input '{t.Name}' has fewer than {samples} samples", nameof(data));

        var sums = parameters.ToDictionary(p => p, _ => (double[]?)null, StringComparer.Ordinal);
        int threads = (int)Math.Min(samples, Parallelism.Resolve(workers));
        long next = -1, turn = 0;
        bool failed = false;
        object gate = new(), createGate = new();
        var options = new SessionOptions { IntraOpThreads = 1, InterOpThreads = 1 };
        var shapes = data.ToDictionary(kv => kv.Key, kv => { var s = kv.Value.Shape.ToArray(); s[0] = 1; return s; }, StringComparer.Ordinal);
        var request = new GradientRequest(parameters, shapes, GradientLoss.ArgmaxLogProbability);

        void Work()
        {
            GradientSession? session = null;
            try
            {
                for (long i = Interlocked.Increment(ref next); i < samples; i = Interlocked.Increment(ref next))
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (session is null)
                        lock (createGate) session = GradientSession.Create(model, request, options);   // the model is only read; one at a time keeps that obviously safe
                    foreach (var (name, t) in data) CopyRow(t, i, session.Inputs[name]);
                    session.Step();
                    lock (gate)
                    {
                        while (turn != i && !failed) Monitor.Wait(gate);
                        if (failed) return;
                        foreach (var (name, g) in session.Gradients) AddSquares(sums, name, g);
                        turn++;
                        Monitor.PulseAll(gate);
                        progress?.Invoke(turn);
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
                session?.Dispose();
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
                var first = e.Flatten().InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.Flatten().InnerExceptions[0];
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
        }
        return ToTensors(model, parameters, sums, samples);
    }

    /// <summary>Copies sample <paramref name="row"/> of <paramref name="source"/> into the batch-1 buffer <paramref name="target"/>.</summary>
    private static void CopyRow(Tensor source, long row, Tensor target)
    {
        long rowBytes = source.ByteLength / source.Shape[0];
        if (target.ByteLength != rowBytes) throw new InvalidOperationException($"input buffer '{target.Name}' does not hold one row of '{source.Name}'");
        source.Read<byte>(row * rowBytes, checked((int)rowBytes)).CopyTo(target.Write<byte>());
    }

    private static void AddSquares(Dictionary<string, double[]?> sums, string name, Tensor g)
    {
        var acc = sums[name] ??= new double[g.ElementCount];
        if (g.DType == DType.F64)
        {
            var v = g.Read<double>();
            for (int i = 0; i < acc.Length; i++) acc[i] += v[i] * v[i];
        }
        else
        {
            var v = g.Read<float>();
            for (int i = 0; i < acc.Length; i++)
            {
                double x = v[i];
                acc[i] += x * x;
            }
        }
    }

    private static Dictionary<string, Tensor> ToTensors(OnnxModel model, IReadOnlyList<string> parameters, Dictionary<string, double[]?> sums, long samples)
    {
        var infos = model.ListInitializers().ToDictionary(i => i.Name, StringComparer.Ordinal);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string p in parameters)
            {
                var info = infos[p];
                var t = Tensor.Allocate(p, DType.F32, info.Shape, zero: false);
                result[p] = t;
                var acc = sums[p] ?? throw new InvalidOperationException($"no gradient was accumulated for '{p}'");
                var w = t.Write<float>();
                for (int i = 0; i < acc.Length; i++) w[i] = (float)(acc[i] / samples);
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
