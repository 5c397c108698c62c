using System.Diagnostics;
using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Training;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// AdaMerging (Yang et al., ICLR 2024): learns clamp(lambda) in theta(lambda) = theta0 + sum_k
/// clamp(lambda_k) tau_k by minimising the softmax entropy of every task's predictions on its
/// unlabeled inputs. One step: (1) the fused <see cref="ThetaWriter"/> writes theta(lambda) into the
/// buffers every task's gradient session reads; (2) per task and batch, ONNX Runtime runs the task's
/// gradient graph (built once: shared tensors are graph inputs, the task's private head stays baked
/// in, loss = mean batch entropy, or with objective=im minus im_weight times the entropy of the batch-mean prediction) and the gradient in theta is summed over runs; (3)
/// <see cref="GradientReduction"/> turns it into dL/dlambda (masked where the clamp is flat);
/// (4) Adam updates the raw coefficients. Loss of a step = sum over tasks and batches. With step=device (1), the sum in (2), (3) and (4) run as ILGPU kernels on the device, theta
/// and the gradients in device buffers that ORT binds in place (<see cref="DeviceStep"/>).
/// ONNX Runtime runs with one intra-op thread; the (task, batch) runs of a step instead run on up to
/// --threads workers at once (<see cref="OrderedRuns"/>), each with its own <see cref="GradientLane"/>
/// (a session per task and its own gradient buffers), and each run's gradient is added into the sum
/// in (task, batch) order, so the sum, the loss and every coefficient are bit-identical to the
/// sequential loop at any --threads. <see cref="Diagnose"/> measures every task's predictions on
/// a fixed probe (<see cref="CollapseProbe"/>) between steps, for the collapse warnings. Extra memory per worker beyond the first: one f32 gradient copy
/// of the shared tensors, K sessions (graph, the task's private head, one batch of inputs) and the
/// working set of one forward + backward while it runs.
/// </summary>
public sealed class AdaMergingTrainer : IDisposable
{
    private readonly TaskVectorStore _tv;
    private readonly List<IDisposable> _owned = [];
    private readonly Tensor[] _theta, _sums;
    private readonly GradientLane[] _lanes;
    private readonly SampleData[] _data;
    private readonly BatchSampler[] _samplers;
    private readonly AdaMergingOptions _o;
    private readonly DeviceStep? _deviceStep;
    private readonly int[] _indices;
    private readonly double[] _runLosses;
    private CollapseProbe? _probe;

    private AdaMergingTrainer(TaskVectorStore tv, AdaMergingOptions o, CoefficientLayout layout, Tensor[] theta, Tensor[] sums,
        GradientLane[] lanes, SampleData[] data, BatchSampler[] samplers, DeviceStep? deviceStep)
    {
        _tv = tv;
        _deviceStep = deviceStep;
        _o = o;
        Layout = layout;
        _theta = theta;
        _sums = sums;
        _lanes = lanes;
        _data = data;
        _samplers = samplers;
        _runLosses = new double[samplers.Length * o.BatchesPerStep];
        _indices = new int[_runLosses.Length * o.BatchSize];
        Raw = Enumerable.Repeat(o.Init, layout.Count).ToArray();
        FirstMoment = new float[layout.Count];
        SecondMoment = new float[layout.Count];
    }

    public CoefficientLayout Layout { get; }

    /// <summary>The trained (unclamped) coefficients, laid out by <see cref="Layout"/>.</summary>
    public float[] Raw { get; }
    public float[] FirstMoment { get; }
    public float[] SecondMoment { get; }

    /// <summary>Adam steps taken so far.</summary>
    public long StepsDone { get; internal set; }

    /// <summary>The loss of every step taken (summed entropy over tasks and batches).</summary>
    public List<double> Losses { get; } = [];

    /// <summary>Seconds spent per phase over all steps so far.</summary>
    public PhaseTimes Times { get; } = new();

    internal TaskVectorStore Vectors => _tv;

    /// <summary>The device the step kernels run on (<c>cpu</c> = ILGPU's CPU accelerator, <c>cuda:N</c>), or null for the host kernels.</summary>
    public string? StepDevice => _deviceStep?.DeviceName;

    /// <summary>
    /// Loads the task vectors, builds each task's gradient session and reads each task's data. Needs
    /// ONNX models with f32 shared tensors, one data file per task, at least batch_size samples each.
    /// Builds min(<see cref="Parallelism.MaxThreads"/>, K * batches_per_step) lanes of sessions: a
    /// step later runs on at most that many workers (fewer if MaxThreads is lowered).
    /// </summary>
    public static AdaMergingTrainer Create(MergeProblem problem, IReadOnlyList<string> data, AdaMergingOptions options, ulong seed,
        ComputeDevice device = default) =>
        Create(problem, data, options, seed, CpuMemory.SharedArena, device);

    /// <param name="memory">Where ORT's intermediates come from; <see cref="CpuMemory.SharedArena"/> except in the benchmark that measures the others.</param>
    /// <param name="stepDevice">With step=device: the ILGPU device to run the step on (the caller's, kept); by default one for <paramref name="device"/>, owned here.</param>
    internal static AdaMergingTrainer Create(MergeProblem problem, IReadOnlyList<string> data, AdaMergingOptions options, ulong seed, CpuMemory memory,
        ComputeDevice device = default, Kernels.Device.DeviceContext? stepDevice = null)
    {
        if (problem.Format != CheckpointFormat.Onnx)
            throw new BadInputException($"--method adamerging: needs ONNX models (it runs them on ONNX Runtime); got {problem.Format} checkpoints");
        if (data.Count != problem.K)
            throw new BadInputException($"--data: adamerging needs one data file per task model, in the same order ({problem.K} --model, {data.Count} --data)");
        var owned = new List<IDisposable>();
        try
        {
            var tv = Owned.Add(owned, TaskVectorStore.Load(problem, options.TiesPreprocess ? options.TiesK : null));
            var names = tv.Names;
            var layout = new CoefficientLayout(options.Granularity, names, problem.K);
            int laneCount = Math.Clamp(Parallelism.MaxThreads, 1, problem.K * options.BatchesPerStep);
            DeviceStep? deviceStep = null;
            if (options.Step == StepBackend.Device)
            {
                // ORT's refusal first: on the CPU build it names what is missing for the sessions, which any --device cuda run needs.
                SessionSettings.EnsureAvailable(device);
                var context = stepDevice ?? Owned.Add(owned, Kernels.Device.DeviceContext.Create(device.ToString()));
                deviceStep = Owned.Add(owned, DeviceStep.Create(context, tv, laneCount, layout.Count));
            }
            var theta = deviceStep?.Theta ?? names.Select((n, i) => Owned.Add(owned, Tensor.Allocate(n, DType.F32, tv.Theta0[i].Shape, zero: false))).ToArray();
            var sums = deviceStep is not null ? Array.Empty<Tensor>() : names.Select((n, i) => Owned.Add(owned, Tensor.Allocate(n + ".grad_sum", DType.F32, tv.Theta0[i].Shape, zero: false))).ToArray();
            var models = new OnnxModel[problem.K];
            var requests = new GradientRequest[problem.K];
            var samples = new SampleData[problem.K];
            var samplers = new BatchSampler[problem.K];
            // One intra-op thread: bit-identical at any --threads (ORT's own intra-op threads change MiniLM's
            // bias and LayerNorm gradients from 4 threads on: its reductions split by thread count). One
            // shared arena: a lane's K sessions run in turn, so peak memory is one working set per worker,
            // not K, and no run faults in fresh pages (without an arena system time matched user time).
            var sessionSettings = new SessionSettings { IntraOpThreads = 1, Memory = memory, Device = device };
            for (int k = 0; k < problem.K; k++)
            {
                var model = models[k] = ((OnnxCheckpoint)problem.Tasks[k]).Model;
                samples[k] = Owned.Add(owned, SampleData.Load(model, data[k]));
                if (samples[k].Count < options.BatchSize)
                    throw new BadInputException($"{data[k]}: {samples[k].Count} samples, fewer than batch_size={options.BatchSize}");
                var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
                foreach (var input in ModelInput.Of(model))
                {
                    if (input.Dims[0] > 0 && input.Dims[0] != options.BatchSize)
                        throw new BadInputException($"{problem.Tasks[k].Path}: input '{input.Name}' has a fixed batch size of {input.Dims[0]}; set batch_size={input.Dims[0]}");
                    shapes[input.Name] = [options.BatchSize, .. samples[k].Inputs[input.Name].Shape[1..]];
                }
                requests[k] = new GradientRequest(names, shapes, options.Loss) { ImWeight = options.ImWeight };
                samplers[k] = new BatchSampler(checked((int)samples[k].Count), options.BatchSize, options.Shuffle, seed, k);
            }
            var lanes = new GradientLane[laneCount];
            for (int w = 0; w < lanes.Length; w++)
                lanes[w] = Owned.Add(owned, GradientLane.Create(models, requests, sessionSettings, names, theta, deviceStep?.LaneGradients[w]));
            var trainer = new AdaMergingTrainer(tv, options, layout, theta, sums, lanes, samples, samplers, deviceStep);
            if (options.ProbeSamples > 0)
                trainer._probe = Owned.Add(owned, CollapseProbe.Create(models, problem.TaskNames, samples, lanes[0].Sessions.Select(s => s.Graph.Classes).ToArray(),
                    names, theta, options.ProbeSamples, options.BatchSize, sessionSettings));
            trainer._owned.AddRange(owned);
            return trainer;
        }
        catch
        {
            Owned.DisposeAll(owned);
            throw;
        }
    }

    /// <summary>
    /// The loss of step <paramref name="step"/>'s batches at the current <see cref="Raw"/> and its
    /// gradient in the raw coefficients (0 where the clamp is flat), without changing anything.
    /// </summary>
    public double Evaluate(long step, Span<double> gradient)
    {
        if (gradient.Length != Layout.Count) throw new ArgumentException($"gradient has {gradient.Length} entries, the layout {Layout.Count}", nameof(gradient));
        double loss = RunBatches(step);
        long r0 = Stopwatch.GetTimestamp();
        double[] perTensor = _deviceStep?.Dots() ?? GradientReduction.Reduce(_tv, _sums);
        gradient.Clear();
        int K = Layout.TaskCount;
        for (int l = 0; l < Layout.Tensors.Count; l++)
            for (int k = 0; k < K; k++) gradient[Layout.Index(l, k)] += perTensor[l * K + k];
        for (int i = 0; i < gradient.Length; i++)
            if (!CoefficientLayout.Passes(Raw[i])) gradient[i] = 0;
        Times.Reduction += Stopwatch.GetElapsedTime(r0).TotalSeconds;
        return loss;
    }

    /// <summary>theta(clamp(Raw)) into the buffers the sessions read, on the host or the device.</summary>
    private void WriteTheta()
    {
        var clamped = Layout.ClampedPerTensor(Raw);
        if (_deviceStep is not null) _deviceStep.WriteTheta(clamped);
        else ThetaWriter.Run(_tv, _tv.Slices, clamped, _theta);
    }

    /// <summary>Writes theta, runs step <paramref name="step"/>'s (task, batch) gradient graphs and sums their gradients; returns the loss.</summary>
    private double RunBatches(long step)
    {
        long t0 = Stopwatch.GetTimestamp();
        WriteTheta();
        long t1 = Stopwatch.GetTimestamp();
        Times.Merge += Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;
        // Run r = task r / B, batch r % B (B = batches_per_step). The samplers cache a permutation, so
        // every run's sample indices are drawn here, on this thread, before the runs start.
        int perStep = _o.BatchesPerStep, size = _o.BatchSize, runs = _runLosses.Length;
        for (int r = 0; r < runs; r++) _samplers[r / perStep].Batch(step * perStep + r % perStep, _indices.AsSpan(r * size, size));
        int workers = Math.Min(Parallelism.MaxThreads, _lanes.Length);
        // With one worker the (elementwise, so thread-count-free) accumulation may use the kernel workers;
        // with several, the other workers are busy in ONNX Runtime, so it stays on the committing thread.
        int accumulateThreads = workers == 1 ? GradientReduction.Workers(_tv) : 1;
        double accumulateSeconds = 0;
        OrderedRuns.Run(runs, workers,
            (w, r) =>
            {
                var session = _lanes[w].Sessions[r / perStep];
                SampleRows.Gather(_data[r / perStep].Inputs, session.Inputs, _indices.AsSpan(r * size, size));
                _runLosses[r] = session.Step();
            },
            (w, r) =>
            {
                long c = Stopwatch.GetTimestamp();
                if (_deviceStep is not null) _deviceStep.Accumulate(w, first: r == 0);
                else GradientReduction.Accumulate(_tv, _lanes[w].Gradients, _sums, first: r == 0, accumulateThreads);
                accumulateSeconds += Stopwatch.GetElapsedTime(c).TotalSeconds; // commits never overlap
            });
        double loss = 0;
        for (int r = 0; r < runs; r++) loss += _runLosses[r];
        long r0 = Stopwatch.GetTimestamp();
        Times.Runtime += Stopwatch.GetElapsedTime(t1, r0).TotalSeconds - accumulateSeconds;
        Times.Reduction += accumulateSeconds;
        return loss;
    }

    /// <summary>One Adam step on the raw coefficients; returns the step's loss.</summary>
    public double Step()
    {
        double loss;
        long t0;
        if (_deviceStep is not null)
        {
            // Dots, mask, Adam and clamp in CoefficientStep; the host arrays are uploaded and read back.
            loss = RunBatches(StepsDone);
            t0 = Stopwatch.GetTimestamp();
            _deviceStep.AdamStep(Raw, FirstMoment, SecondMoment, Layout.Granularity == Granularity.Layer, _o.Adam, StepsDone + 1);
        }
        else
        {
            var gradient = new double[Layout.Count];
            loss = Evaluate(StepsDone, gradient);
            t0 = Stopwatch.GetTimestamp();
            var g = gradient.Select(x => (float)x).ToArray();
            Adam.Step(Raw, g, FirstMoment, SecondMoment, _o.Adam, StepsDone + 1);
        }
        StepsDone++;
        Losses.Add(loss);
        Times.Optimizer += Stopwatch.GetElapsedTime(t0).TotalSeconds;
        Times.Steps++;
        return loss;
    }

    /// <summary>
    /// Every task's <see cref="PredictionStats"/> at the current coefficients (labelled with
    /// <see cref="StepsDone"/>), or null when probe_samples is 0. Writes theta(lambda) first (the next
    /// step writes it again, so training is unchanged).
    /// </summary>
    public PredictionStats[]? Diagnose()
    {
        if (_probe is null) return null;
        long t0 = Stopwatch.GetTimestamp();
        WriteTheta();
        var stats = _probe.Measure(StepsDone);
        Times.Diagnostics += Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return stats;
    }

    /// <summary>Clamped coefficients per tensor and task, [tensor * K + task].</summary>
    public float[] Clamped() => Layout.ClampedPerTensor(Raw);

    /// <summary>Frees the sessions, data and step buffers and hands over the task vectors (for the final merge).</summary>
    internal TaskVectorStore TakeVectors()
    {
        _owned.Remove(_tv);
        Dispose();
        return _tv;
    }

    public void Dispose()
    {
        Owned.DisposeAll(_owned);
        _owned.Clear();
    }
}

/// <summary>Where the time of the steps went (seconds, summed over steps).</summary>
public sealed class PhaseTimes
{
    public long Steps { get; internal set; }
    public double Merge { get; internal set; }
    /// <summary>Wall time of the step's ONNX Runtime runs (with the batch copies), less the accumulation.</summary>
    public double Runtime { get; internal set; }
    public double Reduction { get; internal set; }
    public double Optimizer { get; internal set; }
    /// <summary>The collapse probe's forward passes (and the theta write before them).</summary>
    public double Diagnostics { get; internal set; }

    /// <summary>Adds another record's times (e.g. to snapshot one).</summary>
    public void Add(PhaseTimes other)
    {
        Steps += other.Steps;
        Merge += other.Merge;
        Runtime += other.Runtime;
        Reduction += other.Reduction;
        Optimizer += other.Optimizer;
        Diagnostics += other.Diagnostics;
    }
}
