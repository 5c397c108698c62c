using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.LayerInputs;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.Cat;
using Amalgam.Kernels.Blas;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.Cat;

/// <summary>
/// CAT Merging (Sun et al., ICML 2025), training-free conflict-aware trimming of task vectors with
/// a few unlabeled exemplars per task. Prepare: task k's first `samples` inputs run through
/// theta0 + alpha tau_k (ONNX Runtime, <see cref="FeatureCollector"/>); per linear weight the bases
/// B_k (<see cref="CatBases"/>), per LayerNorm scale the masked scales (<see cref="CatMasks"/>).
/// Merge: linear weights projected (<see cref="CatProjection"/>), LayerNorm scales masked, other
/// 1-D parameters (biases, shifts) masked, everything else plain task arithmetic;
/// theta = theta0 + alpha sum_k T_k. A graph without linear ops degrades to task arithmetic (with a
/// warning). Output is independent of `--threads` (ORT on one thread, OpenBLAS pinned to one).
/// </summary>
public sealed class CatMethod : MergeMethod
{
    public static readonly MethodSpec Spec = new("cat",
        "CAT Merging: project out conflicting directions of linear task vectors, mask LayerNorm scales and shifts",
        [
            ParameterSpec.Float("alpha", 0.4, "scale of the summed trimmed task vectors (and of tau_k when collecting features)"),
            ParameterSpec.Int("samples", 2, "unlabeled exemplars per task (the first inputs of each --data file)", min: 1),
            ParameterSpec.IntOrWord("c", 4, "eigenvectors per basis B_k: a rank, or 'positive' for every positive eigenvalue", min: 1, "positive"),
            ParameterSpec.Float("energy", 0, "when > 0: keep eigenvectors up to this share of the sum of squared positive eigenvalues (overrides c)", min: 0, max: 1),
            ParameterSpec.Float("lambda_lin", 5, "weight of a task's own features in G_k", min: 0),
            ParameterSpec.Int("n_ln", 4, "LayerNorm scale dimensions masked per task", min: 0),
            ParameterSpec.Float("lambda_ln", 10, "weight of a task's own features in the LayerNorm score", min: 0),
            ParameterSpec.Int("n_bias", 4, "shift dimensions masked per task", min: 0),
        ],
        s => new CatMethod(s.Float("alpha"), s.Int("samples"), s.Text("c"), s.Float("energy"), s.Float("lambda_lin"),
            (int)Math.Min(s.Int("n_ln"), int.MaxValue), s.Float("lambda_ln"), (int)Math.Min(s.Int("n_bias"), int.MaxValue), s.TaskCount)) { NeedsData = true };

    private readonly double _alpha, _lambdaLin, _lambdaLn;
    private readonly long _samples;
    private readonly int _nLn, _nBias, _k;
    private readonly BasisRule _rule;
    private readonly TaskArithmeticMethod _ta;
    private readonly Dictionary<string, (LinearOp Op, CatBasis[] Bases)> _linear = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (float[][] Trimmed, int[][] Dims)> _norms = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, double[][]> _removed = new(StringComparer.Ordinal);
    private readonly List<string> _warnings = [];
    private bool _degraded;

    /// <summary>Wall time per phase (features, G_k, eigen-decompositions, projections).</summary>
    public CatTimings Timings { get; } = new();

    public CatMethod(double alpha, long samples, string c, double energy, double lambdaLin, int nLn, double lambdaLn, int nBias, int taskCount)
    {
        (_alpha, _samples, _lambdaLin, _nLn, _lambdaLn, _nBias, _k) = (alpha, samples, lambdaLin, nLn, lambdaLn, nBias, taskCount);
        bool positive = c == "positive";
        _rule = new BasisRule(positive ? 0 : int.Parse(c, CultureInfo.InvariantCulture), positive, energy);
        _ta = new TaskArithmeticMethod(alpha, Enumerable.Repeat(1.0, taskCount).ToArray());
    }

    public override bool NeedsData => true;

    public override void Prepare(MergeContext context)
    {
        var clock = Stopwatch.StartNew();
        var problem = context.Problem;
        var graph = FeatureGraph.Of(problem);
        for (int k = 0; k < problem.K; k++)
        {
            // Checked even when degrading, so bad data is reported the same way.
            using var _ = TaskData.LoadData(context, k, _samples, "cat");
        }
        if (graph.Linears.Count == 0)
        {
            _degraded = true;
            Warn(context, clock, "cat: the graph has no linear op (MatMul/Gemm on a shared 2-D weight); merging by task arithmetic with lambda = alpha");
            return;
        }
        var linears = ConsistentLinears(graph);
        if (problem.K < 2) return; // nothing to trim against: task arithmetic
        using var pin = BlasThreadPin.One();

        var stats = new FeatureStats[problem.K];
        for (int k = 0; k < problem.K; k++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            Timings.Features.Start();
            using var data = TaskData.LoadData(context, k, _samples, "cat");
            var model = TaskData.ScaledTaskModel(context, k, _alpha);
            stats[k] = FeatureCollector.Collect(model, graph, data.Inputs, _samples, new FeatureRequest(Grams: false, Rows: true, Norms: true),
                cancel: context.Cancellation, device: context.Device);
            Timings.Features.Stop();
            Report(context, "features", k + 1, problem.K, clock, problem.TaskNames[k]);
        }

        int done = 0;
        foreach (var op in linears)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var tasks = TaskVectors.OfTensor(problem, op.Weight);
            var rows = stats.Select(s => s.Rows(op.Weight)).ToList();
            _linear[op.Weight] = (op, CatBases.Compute(tasks, op.StoredTransposed, op.DIn, op.DOut, rows, _lambdaLin, _rule, Timings));
            Report(context, "bases", ++done, linears.Count, clock, op.Weight);
        }
        foreach (string scale in graph.Norms.Select(n => n.Scale).Distinct())
        {
            var t = TaskVectors.OfTensor(problem, scale);
            var m = stats.Select(s => s.NormSquares[scale]).ToArray();
            var dims = CatMasks.LayerNormScale(t, m, _lambdaLn, _nLn);
            _norms[scale] = (t, dims);
        }
    }

    /// <summary>One op per weight; weights whose ops disagree on orientation or size stay with task arithmetic (reported).</summary>
    private List<LinearOp> ConsistentLinears(FeatureGraph graph)
    {
        var list = new List<LinearOp>();
        foreach (var group in graph.Linears.GroupBy(l => l.Weight))
        {
            var first = group.First();
            if (group.All(l => l.StoredTransposed == first.StoredTransposed && l.DIn == first.DIn && l.DOut == first.DOut)) list.Add(first);
            else _warnings.Add($"{first.Weight}: used by linear ops with different orientations; merged by task arithmetic");
        }
        return list;
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        if (_degraded || g.K < 2)
        {
            _ta.Merge(g, merged);
            return;
        }
        if (_linear.TryGetValue(g.Name, out var lin))
        {
            using var pin = BlasThreadPin.One();
            var t = TaskVectors.OfGroup(g);
            var removed = new double[g.K][];
            Timings.Projections.Start();
            for (int j = 0; j < g.K; j++) removed[j] = CatProjection.Apply(t[j], lin.Op.StoredTransposed, lin.Op.DIn, lin.Op.DOut, j, lin.Bases);
            Timings.Projections.Stop();
            lock (_removed) _removed[g.Name] = removed;
            Combine(g, t, merged);
        }
        else if (_norms.TryGetValue(g.Name, out var norm))
        {
            Combine(g, norm.Trimmed, merged);
        }
        else if (g.Shape.Length == 1)
        {
            var t = TaskVectors.OfGroup(g);
            CatMasks.Shift(t, _nBias);
            Combine(g, t, merged);
        }
        else
        {
            _ta.Merge(g, merged);
        }
    }

    /// <summary>theta0 + alpha sum_k T_k, summed in f32 in task order like task arithmetic.</summary>
    private void Combine(TensorGroup g, float[][] t, Tensor merged)
    {
        int n = checked((int)g.Length);
        var theta0 = TensorGroup.Float32Tile(g.Theta0, 0, n, new float[n]);
        var output = merged.Write<float>(0, n);
        float alpha = (float)_alpha;
        for (int i = 0; i < n; i++)
        {
            float s = t[0][i];
            for (int k = 1; k < t.Length; k++) s += t[k][i];
            output[i] = theta0[i] + alpha * s;
        }
    }

    private void Warn(MergeContext context, Stopwatch clock, string message)
    {
        _warnings.Add(message);
        context.Progress?.Report(new MergeProgress("features", 0, 0, 0, 0, clock.Elapsed) { Warning = message });
    }

    private static void Report(MergeContext context, string stage, int done, int total, Stopwatch clock, string detail) =>
        context.Progress?.Report(new MergeProgress(stage, done, total, 0, 0, clock.Elapsed) { Detail = detail });

    public override void WriteReport(Utf8JsonWriter w)
    {
        w.WriteBoolean("degraded_to_task_arithmetic", _degraded);
        w.WriteStartObject("seconds");
        w.WriteNumber("features", Timings.Features.Elapsed.TotalSeconds);
        w.WriteNumber("grams", Timings.Grams.Elapsed.TotalSeconds);
        w.WriteNumber("eigen", Timings.Eigen.Elapsed.TotalSeconds);
        w.WriteNumber("projections", Timings.Projections.Elapsed.TotalSeconds);
        w.WriteEndObject();
        w.WriteStartArray("warnings");
        foreach (var s in _warnings) w.WriteStringValue(s);
        w.WriteEndArray();
        w.WriteStartArray("linear");
        foreach (var (name, (op, bases)) in _linear.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteBoolean("stored_transposed", op.StoredTransposed);
            w.WriteStartArray("rank");
            foreach (var b in bases) w.WriteNumberValue(b.Rank);
            w.WriteEndArray();
            w.WriteStartArray("largest_eigenvalue");
            foreach (var b in bases) w.WriteNumberValue(b.LargestEigenvalue);
            w.WriteEndArray();
            // Per task j: 1 - prod_k (1 - share removed by B_k), the share of ||T_j|| the projections took before each rescale.
            w.WriteStartArray("norm_removed");
            if (_removed.TryGetValue(name, out var removed))
                foreach (var r in removed) w.WriteNumberValue(1 - r.Aggregate(1.0, (p, x) => p * Math.Sqrt(Math.Max(0, 1 - x * x))));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("layer_norm");
        foreach (var (name, (_, dims)) in _norms.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteStartArray("masked_dims");
            foreach (var d in dims)
            {
                w.WriteStartArray();
                foreach (int i in d) w.WriteNumberValue(i);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
