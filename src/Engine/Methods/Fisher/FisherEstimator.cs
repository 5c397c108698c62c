using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Methods.Fisher;

/// <summary>
/// The diagonal empirical Fisher of one model at its own weights, without labels:
/// F = (1/n) sum_i g_i^2 with g_i = d log p(y_hat_i | x_i) / d theta and y_hat_i the model's own
/// argmax for sample i (Matena and Raffel, NeurIPS 2022, eq. 4 with the predicted class).
/// Squares of per-sample gradients need one gradient per sample: each is a batch-1 step of a
/// <see cref="GradientSession"/> with <see cref="GradientLoss.ArgmaxLogProbability"/> (its loss at
/// batch 1 is exactly log p(argmax | x)). Workers each own a single-threaded session (ONNX Runtime's
/// intra-op threads change the last bits of a gradient; one thread per session does not) and take
/// samples in turn; squares are added to float64 sums strictly in sample order, so F does not depend
/// on the number of workers. F is rounded once to f32 (the merge reads f32 tiles; the floor 1e-6 is
/// far above f32's smallest normal). Sessions are kept between calls, so the task models of one
/// merge share them (building a gradient session costs far more than a step on small models).
/// </summary>
public sealed class FisherEstimator : IDisposable
{
    private readonly OnnxModel _template;
    private readonly IReadOnlyList<string> _parameters, _alsoBound;
    private readonly Dictionary<string, Tensor> _values = new(StringComparer.Ordinal);
    // Sessions by worker and by the inputs' row shapes (data of dynamic non-batch axes, e.g. sequence length, may differ per task).
    private readonly Dictionary<(int Worker, string Rows), GradientSession> _sessions = [];
    private readonly object _createGate = new();
    private readonly SessionSettings _options;

    /// <summary>
    /// An estimator for models with the graph of <paramref name="template"/> (e.g. the task models of one
    /// merge): gradient sessions are built once, for <paramref name="parameters"/> (whose Fisher is
    /// wanted) and <paramref name="alsoBound"/> (float initializers that differ between the models, e.g.
    /// task-private heads: bound like parameters so every model's own values are used; their
    /// gradients are computed and ignored). Every other initializer is taken from the template, so it
    /// must be the same in every model measured. The parameter values are loaded per <see cref="Compute"/>.
    /// </summary>
    public FisherEstimator(OnnxModel template, IReadOnlyList<string> parameters, IReadOnlyList<string>? alsoBound = null, ComputeDevice device = default)
    {
        _options = new SessionSettings { IntraOpThreads = 1, InterOpThreads = 1, Device = device };
        _template = template;
        _parameters = parameters;
        _alsoBound = alsoBound ?? [];
    }

    /// <summary>One-off: the Fisher of <paramref name="model"/> (see <see cref="Compute"/>).</summary>
    public static Dictionary<string, Tensor> Compute(OnnxModel model, IReadOnlyDictionary<string, Tensor> data, IReadOnlyList<string> parameters,
        long samples, int workers = 0, Action<long>? progress = null, CancellationToken cancellation = default)
    {
        using var estimator = new FisherEstimator(model, parameters);
        return estimator.Compute(model, data, samples, workers, progress, cancellation);
    }

    /// <summary>Fisher per parameter as f32 tensors of the parameter's shape (named like the parameters; caller disposes) of <paramref name="model"/> at its own weights over samples [0, <paramref name="samples"/>) of <paramref name="data"/>.</summary>
    /// <param name="model">A model with the template's graph; its parameters and bound initializers are read.</param>
    /// <param name="data">Input tensors by model input name, samples on the first axis (at least <paramref name="samples"/>).</param>
    /// <param name="workers">Parallel single-threaded sessions (0 = <see cref="Parallelism.MaxThreads"/>); the result does not depend on it.</param>
    /// <param name="progress">Called with the number of samples done, in order, from any worker.</param>
    public Dictionary<string, Tensor> Compute(OnnxModel model, IReadOnlyDictionary<string, Tensor> data,
        long samples, int workers = 0, Action<long>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        if (data.Count == 0) throw new ArgumentException("no data inputs", nameof(data));
        foreach (var t in data.Values)
            if (t.Rank == 0 || t.Shape[0] < samples) throw new ArgumentException($"input '{t.Name}' has fewer than {samples} samples", nameof(data));
        LoadValues(model);

        var sums = _parameters.ToDictionary(p => p, _ => (double[]?)null, StringComparer.Ordinal);
        int threads = (int)Math.Min(samples, Parallelism.Resolve(workers));
        long next = -1, turn = 0;
        bool failed = false;
        object gate = new();
        var shapes = data.ToDictionary(kv => kv.Key, kv => { var s = kv.Value.Shape.ToArray(); s[0] = 1; return s; }, StringComparer.Ordinal);
        string rows = string.Join(";", shapes.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + string.Join(",", kv.Value)));

        void Work(int worker)
        {
            try
            {
                GradientSession? session = null;
                for (long i = Interlocked.Increment(ref next); i < samples; i = Interlocked.Increment(ref next))
                {
                    cancellation.ThrowIfCancellationRequested();
                    session ??= Session(worker, rows, shapes);
                    foreach (var (name, t) in data) CopyRow(t, i, session.Inputs[name]);
                    session.Step();
                    lock (gate)
                    {
                        while (turn != i && !failed) Monitor.Wait(gate);
                        if (failed) return;
                        foreach (string p in _parameters) AddSquares(sums, p, session.Gradients[p]);
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
        }

        if (threads <= 1) Work(0);
        else
        {
            var tasks = Enumerable.Range(0, threads).Select(w => Task.Factory.StartNew(() => Work(w), TaskCreationOptions.LongRunning)).ToArray();
            try { Task.WaitAll(tasks); }
            catch (AggregateException e)
            {
                // The first real failure (others only stopped because of it).
                var first = e.Flatten().InnerExceptions.FirstOrDefault(x => x is not OperationCanceledException) ?? e.Flatten().InnerExceptions[0];
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
        }
        return ToTensors(_parameters, sums, samples);
    }

    /// <summary>Copies the model's parameter and bound initializer values into the tensors every session reads (ONNX Runtime never writes inputs).</summary>
    private void LoadValues(OnnxModel model)
    {
        foreach (string name in _parameters.Concat(_alsoBound))
        {
            using var t = model.ReadInitializer(name);
            if (!_values.TryGetValue(name, out var bound))
                _values[name] = bound = Tensor.Allocate(name, t.DType, t.Shape.ToArray(), zero: false);
            if (bound.DType != t.DType || !bound.Shape.SequenceEqual(t.Shape))
                throw new BadInputException($"{model.DisplayName}: initializer '{name}' is {t.DType.ShortName()} {Shapes.Format(t.Shape)}, the first model's is {bound.DType.ShortName()} {Shapes.Format(bound.Shape)}");
            t.Read<byte>().CopyTo(bound.Write<byte>());
        }
    }

    private GradientSession Session(int worker, string rows, Dictionary<string, long[]> shapes)
    {
        lock (_createGate)   // the template is only read, but one build at a time keeps that obviously safe
        {
            if (_sessions.TryGetValue((worker, rows), out var s)) return s;
            var request = new GradientRequest(_parameters.Concat(_alsoBound).ToList(), shapes, GradientLoss.ArgmaxLogProbability);
            s = GradientSession.Create(_template, request, _options, _values);
            _sessions[(worker, rows)] = s;
            return s;
        }
    }

    public void Dispose()
    {
        foreach (var s in _sessions.Values) s.Dispose();
        _sessions.Clear();
        foreach (var t in _values.Values) t.Dispose();
        _values.Clear();
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

    private Dictionary<string, Tensor> ToTensors(IReadOnlyList<string> parameters, Dictionary<string, double[]?> sums, long samples)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string p in parameters)
            {
                var t = Tensor.Allocate(p, DType.F32, _values[p].Shape.ToArray(), zero: false);
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
