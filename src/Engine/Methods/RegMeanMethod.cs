using System.Diagnostics;
using System.Text.Json;
using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.LayerInputs;
using Amalgam.Engine.Merging;
using Amalgam.Kernels.Blas;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// RegMean (Jin et al., ICLR 2023). For every linear op y = x W on a shared weight (W d_in x d_out,
/// a Gemm transB=1 weight transposed accordingly), G_k = X_k^T X_k over task k's first `samples`
/// inputs (all tokens) run through theta_k, G_k' = alpha G_k + (1 - alpha) diag(G_k), and
/// W = (sum_k G_k')^-1 sum_k G_k' W_k by Cholesky (<c>sposv</c>); when sum_k G_k' is not positive
/// definite the layer is reported and solved by least squares (<c>sgelsd</c>). Sums over tasks are
/// kept in f64 (G_k' W_k by sgemm in f32); every other shared parameter is the plain average.
/// OpenBLAS is pinned to one thread and ORT runs on one, so output is independent of `--threads`.
/// </summary>
public sealed class RegMeanMethod : MergeMethod
{
    public static readonly MethodSpec Spec = new("regmean",
        "W = (sum_k G_k')^-1 sum_k G_k' W_k per linear weight from input Gram matrices; other parameters averaged",
        [
            ParameterSpec.Float("alpha", 0.95, "off-diagonal scale of the Gram matrices: G' = alpha G + (1 - alpha) diag(G)", min: 0, max: 1),
            ParameterSpec.Int("samples", 256, "inputs per task (the first of each --data file)", min: 1),
            ParameterSpec.Int("batch_size", FeatureCollector.DefaultBatchSize, "samples per ONNX Runtime run when collecting features", min: 1),
        ],
        s => new RegMeanMethod(s.Float("alpha"), s.Int("samples"), (int)Math.Min(s.Int("batch_size"), int.MaxValue), s.TaskCount)) { NeedsData = true };

    private readonly double _alpha;
    private readonly long _samples;
    private readonly int _batchSize;
    private readonly AverageMethod _average;
    private readonly Dictionary<string, (LinearOp Op, double[] Gram, double[] Rhs)> _linear = new(StringComparer.Ordinal);
    private readonly List<string> _fallbacks = [];
    private readonly List<string> _warnings = [];

    public RegMeanMethod(double alpha, long samples, int batchSize, int taskCount)
    {
        (_alpha, _samples, _batchSize) = (alpha, samples, batchSize);
        _average = new AverageMethod(Enumerable.Repeat(1.0, taskCount).ToArray());
    }

    public override bool NeedsData => true;

    public override void Prepare(MergeContext context)
    {
        var clock = Stopwatch.StartNew();
        var problem = context.Problem;
        var graph = FeatureGraph.Of(problem);
        var ops = new List<LinearOp>();
        foreach (var group in graph.Linears.GroupBy(l => l.Weight))
        {
            var first = group.First();
            if (group.All(l => l.StoredTransposed == first.StoredTransposed && l.DIn == first.DIn)) ops.Add(first);
            else _warnings.Add($"{first.Weight}: used by linear ops with different orientations; averaged");
        }
        if (ops.Count == 0)
        {
            _warnings.Add("regmean: the graph has no linear op (MatMul/Gemm on a shared 2-D weight); every parameter is averaged");
            context.Progress?.Report(new MergeProgress("features", 0, 0, 0, 0, clock.Elapsed) { Warning = _warnings[^1] });
        }
        using var pin = BlasThreadPin.One();
        foreach (var op in ops) _linear[op.Weight] = (op, new double[(long)op.DIn * op.DIn], new double[(long)op.DIn * op.DOut]);
        for (int k = 0; k < problem.K; k++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            using var data = TaskData.LoadData(context, k, _samples, "regmean");
            if (ops.Count == 0) continue;
            var model = ((OnnxCheckpoint)problem.Tasks[k]).Model;
            var stats = FeatureCollector.Collect(model, graph, data.Inputs, _samples, new FeatureRequest(Grams: true, Rows: false, Norms: false),
                _batchSize, context.Cancellation, context.Device);
            foreach (var op in ops) Accumulate(op, stats.Grams[op.Weight], Float32Loader.ArrayOf(problem.Tasks[k], op.Weight));
            context.Progress?.Report(new MergeProgress("features", k + 1, problem.K, 0, 0, clock.Elapsed) { Detail = problem.TaskNames[k] });
        }
    }

    /// <summary>A += G', R += G' W_k with G' = alpha G + (1 - alpha) diag(G).</summary>
    private void Accumulate(LinearOp op, double[] gram, float[] stored)
    {
        var (_, a, r) = _linear[op.Weight];
        int d = op.DIn, m = op.DOut;
        var g = new float[(long)d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double v = i == j ? gram[(long)i * d + j] : _alpha * gram[(long)i * d + j];
                a[(long)i * d + j] += v;
                g[(long)i * d + j] = (float)v;
            }
        var gw = new float[(long)d * m];
        BlasLevel3.Sgemm(Transpose.No, op.StoredTransposed ? Transpose.Yes : Transpose.No, d, m, d, 1f, g, d, stored,
            op.StoredTransposed ? d : m, 0f, gw, m);
        for (long i = 0; i < gw.LongLength; i++) r[i] += gw[i];
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        if (!_linear.TryGetValue(g.Name, out var lin))
        {
            _average.Merge(g, merged);
            return;
        }
        using var pin = BlasThreadPin.One();
        var (op, a, r) = lin;
        int d = op.DIn, m = op.DOut;
        var af = a.Select(v => (float)v).ToArray();
        var w = r.Select(v => (float)v).ToArray();
        if (!Lapack.TrySposv(Triangle.Upper, d, m, af, d, w, m, out int minor))
        {
            lock (_fallbacks) _fallbacks.Add($"{g.Name}: sum of G_k' is not positive definite (leading minor {minor}); solved by least squares");
            af = a.Select(v => (float)v).ToArray();
            var rhs = r.Select(v => (float)v).ToArray();
            Lapack.Sgelsd(d, d, m, af, d, rhs, m, w, m, -1f);
        }
        var output = merged.Write<float>(0, checked(d * m));
        if (!op.StoredTransposed) w.CopyTo(output);
        else
            for (int i = 0; i < d; i++)
                for (int j = 0; j < m; j++) output[j * d + i] = w[i * m + j];
    }

    public override void WriteReport(Utf8JsonWriter w)
    {
        w.WriteNumber("linear_weights", _linear.Count);
        w.WriteStartArray("least_squares_fallbacks");
        foreach (var s in _fallbacks) w.WriteStringValue(s);
        w.WriteEndArray();
        w.WriteStartArray("warnings");
        foreach (var s in _warnings) w.WriteStringValue(s);
        w.WriteEndArray();
    }
}
