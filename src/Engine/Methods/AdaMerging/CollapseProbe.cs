using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// Forward passes that measure <see cref="PredictionStats"/> of every task at the current theta(lambda):
/// per task a session of its model (private head baked in) whose shared tensors are graph inputs
/// bound to the trainer's theta buffers, run over a fixed probe set of that task's inputs. The probe
/// takes min(probe_samples, N) inputs rounded down to whole batches, spread evenly over the file
/// (sample floor(i N / n)), so a file sorted by class still gives a mixed probe, and every checkpoint
/// sees the same inputs. Tasks run in parallel, each on one session; the results do not depend on it.
/// </summary>
internal sealed class CollapseProbe : IDisposable
{
    private readonly Probe[] _tasks;
    private readonly string[] _names;

    private CollapseProbe(Probe[] tasks, string[] names) => (_tasks, _names) = (tasks, names);

    /// <param name="classes">Task k's class count (its logits' second dimension).</param>
    public static CollapseProbe Create(IReadOnlyList<OnnxModel> models, IReadOnlyList<string> taskNames, IReadOnlyList<SampleData> data,
        IReadOnlyList<long> classes, IReadOnlyList<string> sharedNames, IReadOnlyList<Tensor> theta, int probeSamples, int batchSize, SessionSettings settings)
    {
        var tasks = new List<Probe>();
        try
        {
            for (int k = 0; k < models.Count; k++) tasks.Add(Probe.Create(models[k], data[k], checked((int)classes[k]), sharedNames, theta, probeSamples, batchSize, settings));
            return new CollapseProbe(tasks.ToArray(), taskNames.ToArray());
        }
        catch
        {
            foreach (var t in tasks) t.Dispose();
            throw;
        }
    }

    /// <summary>Every task's statistics at the values theta holds now, labelled <paramref name="step"/>.</summary>
    public PredictionStats[] Measure(long step)
    {
        var results = new PredictionStats[_tasks.Length];
        Parallel.For(0, _tasks.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Parallelism.MaxThreads) },
            k => results[k] = _tasks[k].Measure(_names[k], step));
        return results;
    }

    public void Dispose()
    {
        foreach (var t in _tasks) t.Dispose();
    }

    private sealed class Probe : IDisposable
    {
        private readonly OnnxSession _session;
        private readonly BoundRun _run;
        private readonly SampleData _data;
        private readonly Dictionary<string, Tensor> _batch;
        private readonly Tensor _logits;
        private readonly int[] _indices;
        private readonly int _classes, _batchSize;

        private Probe(OnnxSession session, BoundRun run, SampleData data, Dictionary<string, Tensor> batch, Tensor logits, int[] indices, int classes, int batchSize)
        {
            (_session, _run, _data, _batch, _logits, _indices, _classes, _batchSize) = (session, run, data, batch, logits, indices, classes, batchSize);
        }

        public static Probe Create(OnnxModel model, SampleData data, int classes, IReadOnlyList<string> sharedNames, IReadOnlyList<Tensor> theta,
            int probeSamples, int batchSize, SessionSettings settings)
        {
            int count = checked((int)data.Count);
            int n = Math.Max(batchSize, Math.Min(probeSamples, count) / batchSize * batchSize);
            var indices = new int[n];
            for (int i = 0; i < n; i++) indices[i] = (int)((long)i * count / n);
            string output = model.Graph.Output.Count == 1 ? model.Graph.Output[0].Name
                : throw new BadInputException($"{model.DisplayName}: the model has {model.Graph.Output.Count} outputs; the collapse probe needs the logits as its only output");
            var owned = new List<IDisposable>();
            try
            {
                var copy = new OnnxModel(model.Proto.Clone(), model.BaseDirectory, model.DisplayName);
                copy.PromoteInitializersToInputs(sharedNames);
                var session = Owned.Add(owned, OnnxSession.FromBytes(copy.ToInlineBytes(), settings));
                var inputs = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                var batch = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (name, source) in data.Inputs)
                    inputs[name] = batch[name] = Owned.Add(owned, Tensor.Allocate(name, source.DType, [batchSize, .. source.Shape[1..]], zero: false));
                for (int i = 0; i < sharedNames.Count; i++) inputs[sharedNames[i]] = theta[i];
                var logits = Owned.Add(owned, Tensor.Allocate(output, DType.F32, [batchSize, classes], zero: false));
                var run = session.Bind(inputs, new Dictionary<string, Tensor>(StringComparer.Ordinal) { [output] = logits });
                return new Probe(session, run, data, batch, logits, indices, classes, batchSize);
            }
            catch
            {
                Owned.DisposeAll(owned);
                throw;
            }
        }

        public PredictionStats Measure(string task, long step)
        {
            var tally = new PredictionTally(_classes);
            for (int start = 0; start < _indices.Length; start += _batchSize)
            {
                SampleRows.Gather(_data.Inputs, _batch, _indices.AsSpan(start, _batchSize));
                _run.Run();
                tally.Add(_logits.Read<float>(), _batchSize);
            }
            return tally.Result(task, step);
        }

        public void Dispose()
        {
            _run.Dispose();
            _session.Dispose();
            foreach (var t in _batch.Values) t.Dispose();
            _logits.Dispose();
        }
    }
}
