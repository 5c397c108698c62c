using System.Buffers;
using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Kernels.Selection;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.Pcb;

/// <summary>
/// PCB, Parameter Competition Balancing (Du et al., NeurIPS 2024), on the GLOBAL flattened task
/// vectors tau_k = theta_k - theta0 (K x D, all shared tensors in name order; tau in f32):
/// 1. Clip: |tau_k| clamped to its own [0.01, 0.99] quantiles [low_k, high_k]; tauc = sign(tau) |tau|c.
/// 2. Norm = per-task min-max over the whole vector (for |tauc_k| that is exactly [low_k, high_k]).
/// 3. intra_k = exp(K Norm(|tauc_k|)^2); inter_k = sum_j tanh(s_k s_j), s = sign(tau) Norm(|tauc|).
/// 4. beta_k = intra_k inter_k. Keep the top `ratio` of beta_k per task: clamp beta_k below at its
///    (1 - ratio) quantile q_k, then Norm, so beta_hat_k = (max(beta_k, q_k) - q_k) / (max beta_k - q_k)
///    (entries at or below q_k become 0).
/// 5. tau_m = sum_k beta_hat_k tauc_k / max(sum_k beta_hat_k, 1e-12); theta = theta0 + lambda tau_m.
/// Quantiles interpolate linearly between order statistics (numpy's default). Defaults ratio 0.05
/// (the vision code's pcb_ratio) and lambda 1.2 (its initial lams).
///
/// Where the official code (github.com/duguodong7/pcb-merging, pcb-merging.py `PCB_merge`)
/// differs, our specification (algorithms.md) rules and we follow it: that code clamps |tau| at
/// the order statistics sorted[int(d*0.0001)] and sorted[int(d*0.9999)-1] (no interpolation),
/// uses tanh(tau_k * sum_j tau_j) on the raw task vectors as the inter term, and clamps beta at
/// sorted[int(d*(1-ratio))]; its normalize() divides by (max - min) unguarded, a variant guards it
/// with 1e-12. We define Norm = 0 for a constant vector. Beta is evaluated in f64 and rounded to
/// f32 for selection; the merge pass uses the same rounded value, so selection and weights agree.
///
/// Passes (never K copies of the model; per task only histograms and a few numbers):
/// 0: histogram of |tau_k| per task; 1: refinement -> low_k, high_k; 2: signed histogram of
/// beta_k and max beta_k per task; 3: refinement -> q_k; then the merge pass. Each worker thread
/// holds its own K histograms (384 KiB for |tau|, 512 KiB signed, plus 512 KiB per refined bucket)
/// and scratch of 2 K + 1 chunk-sized f32 buffers (theta0 converted there when not stored as f32); counts are integers and maxima order-free, so the
/// result is the same at any thread count. Cost: beta needs K(K+1)/2 tanh and K exp per element;
/// pass 3 and the merge pass first evaluate a tanh-free upper bound (<see cref="PcbBalance.Bound"/>)
/// and skip entries that provably cannot reach the refinement bucket or the threshold, which
/// changes no result (the skipped values could not be counted or weighted).
/// </summary>
public sealed class PcbMethod(double ratio, double lambda) : MergeMethod
{
    public static readonly MethodSpec Spec = new("pcb",
        "Parameter Competition Balancing: intra/inter balancing, drop to the top ratio, weighted merge (global)",
        [
            ParameterSpec.Float("ratio", 0.05, "fraction of entries kept per task (top beta)", min: 0, max: 1, minExclusive: true),
            ParameterSpec.Float("lambda", 1.2, "scale of the merged task vector"),
        ],
        s => new PcbMethod(s.Float("ratio"), s.Float("lambda")));

    private const double ClipLow = 0.01, ClipHigh = 0.99;

    private int _k;
    private long _count;
    private MagnitudeHistogram[] _absHistogram = [];
    private MagnitudeRefinement[] _absRefinement = [];
    private SignedHistogram[] _betaHistogram = [];
    private SignedRefinement[] _betaRefinement = [];
    private double[] _low = [], _high = [], _threshold = [];
    private float[] _betaMax = [];
    private float[] _refinementFloor = [], _mergeFloor = [];
    private long[] _kept = [];
    private ThreadLocal<Worker>? _workers;

    public override int PrepassCount => 4;

    /// <summary>One worker thread's share of a pass.</summary>
    private sealed class Worker
    {
        public MagnitudeHistogram[]? AbsHistogram;
        public MagnitudeRefinement[]? AbsRefinement;
        public SignedHistogram[]? BetaHistogram;
        public SignedRefinement[]? BetaRefinement;
        public float[] BetaMax = [];
    }

    private Worker NewWorker(int pass) => pass switch
    {
        0 => new Worker { AbsHistogram = Enumerable.Range(0, _k).Select(_ => new MagnitudeHistogram()).ToArray() },
        1 => new Worker { AbsRefinement = _absRefinement.Select(r => r.CreateEmptyCopy()).ToArray() },
        2 => new Worker { BetaHistogram = Enumerable.Range(0, _k).Select(_ => new SignedHistogram()).ToArray(), BetaMax = Enumerable.Repeat(float.NegativeInfinity, _k).ToArray() },
        _ => new Worker { BetaRefinement = _betaRefinement.Select(r => r.CreateEmptyCopy()).ToArray() },
    };

    public override void Observe(int pass, TensorGroup g)
    {
        if (pass == 0 && _k == 0) _k = g.K;
        if (pass == 0) _count += g.Length;
        _workers ??= new ThreadLocal<Worker>(() => NewWorker(pass), trackAllValues: true);
        // Pass 3 only counts values inside the refinement's buckets: entries that cannot reach them are skipped.
        ForEachChunk(g, pass >= 2, (w, n, _, tau, beta) =>
        {
            var worker = _workers.Value!;
            for (int t = 0; t < _k; t++)
            {
                var tauT = tau.Slice(t * n, n);
                var betaT = pass >= 2 ? beta.Slice(t * n, n) : default;
                switch (pass)
                {
                    case 0: worker.AbsHistogram![t].Add(tauT); break;
                    case 1: worker.AbsRefinement![t].Add(tauT); break;
                    case 2:
                        worker.BetaHistogram![t].Add(betaT);
                        foreach (float b in betaT) worker.BetaMax[t] = Math.Max(worker.BetaMax[t], b);
                        break;
                    default: worker.BetaRefinement![t].Add(betaT); break;
                }
            }
        }, pass == 3 ? _refinementFloor : null);
    }

    public override void EndPrepass(int pass)
    {
        var workers = _workers?.Values ?? [];
        _workers?.Dispose();
        _workers = null;
        switch (pass)
        {
            case 0:
                _absHistogram = Enumerable.Range(0, _k).Select(_ => new MagnitudeHistogram()).ToArray();
                foreach (var w in workers) for (int t = 0; t < _k; t++) _absHistogram[t].Merge(w.AbsHistogram![t]);
                _absRefinement = _absHistogram.Select(h => h.RefineForQuantiles(ClipLow, ClipHigh)).ToArray();
                break;
            case 1:
                foreach (var w in workers) for (int t = 0; t < _k; t++) _absRefinement[t].Merge(w.AbsRefinement![t]);
                _low = _absRefinement.Select(r => r.Quantile(_count, ClipLow)).ToArray();
                _high = _absRefinement.Select(r => r.Quantile(_count, ClipHigh)).ToArray();
                _absHistogram = [];
                _absRefinement = [];
                break;
            case 2:
                _betaHistogram = Enumerable.Range(0, _k).Select(_ => new SignedHistogram()).ToArray();
                _betaMax = Enumerable.Repeat(float.NegativeInfinity, _k).ToArray();
                foreach (var w in workers)
                    for (int t = 0; t < _k; t++)
                    {
                        _betaHistogram[t].Merge(w.BetaHistogram![t]);
                        _betaMax[t] = Math.Max(_betaMax[t], w.BetaMax[t]);
                    }
                _betaRefinement = _betaHistogram.Select(h => h.RefineForQuantiles(1 - ratio)).ToArray();
                _refinementFloor = _betaRefinement.Select(r => r.LowerBound).ToArray();
                break;
            default:
                foreach (var w in workers) for (int t = 0; t < _k; t++) _betaRefinement[t].Merge(w.BetaRefinement![t]);
                _threshold = _betaRefinement.Select(r => r.Quantile(_count, 1 - ratio)).ToArray();
                _betaHistogram = [];
                _betaRefinement = [];
                _kept = new long[_k];
                // An entry with beta <= q_t gets beta_hat = 0 whatever its value: skip it when its bound says so.
                _mergeFloor = _threshold.Select(q => NextUp(q)).ToArray();
                break;
        }
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        var kept = new long[_k];
        ForEachChunk(g, true, (chunk, n, theta0, tau, beta) =>
        {
            Span<float> output = merged.Write<float>(chunk.Start, n);
            Span<long> keptHere = stackalloc long[_k];
            for (int i = 0; i < n; i++)
            {
                double weighted = 0, weights = 0;
                for (int t = 0; t < _k; t++)
                {
                    float tauT = tau[t * n + i];
                    double q = _threshold[t], range = _betaMax[t] - q;
                    double betaHat = range > 0 ? (Math.Max(beta[t * n + i], q) - q) / range : 0.0;
                    if (betaHat > 0) keptHere[t]++;
                    weighted += betaHat * (Math.Sign(tauT) * PcbBalance.Clip(tauT, _low[t], _high[t]));
                    weights += betaHat;
                }
                output[i] = (float)(theta0[i] + lambda * (weighted / Math.Max(weights, 1e-12)));
            }
            for (int t = 0; t < _k; t++) Interlocked.Add(ref kept[t], keptHere[t]);
        }, _mergeFloor);
        for (int t = 0; t < _k; t++) _kept[t] += kept[t];
    }

    private delegate void ChunkBody(Chunk chunk, int n, ReadOnlySpan<float> theta0, ReadOnlySpan<float> tau, ReadOnlySpan<float> beta);

    /// <summary>
    /// Per chunk: theta0 and tau (K x n, task-major) in f32, converted from the stored dtypes, and, when asked, beta (K x n) in pooled scratch.
    /// With <paramref name="skipBelow"/>, an entry of task t whose <see cref="PcbBalance.Bound"/> is
    /// below skipBelow[t] gets beta = -inf instead of its value: the caller has shown that no value
    /// below skipBelow[t] can change its result (saves K tanh for most entries).
    /// </summary>
    private void ForEachChunk(TensorGroup g, bool withBeta, ChunkBody body, float[]? skipBelow = null)
    {
        int k = g.K;
        var plan = ChunkPlan.For<float>(g.Length);
        ParallelChunks.For(plan, chunk =>
        {
            int n = (int)chunk.Length;
            float[] tau = ArrayPool<float>.Shared.Rent((k + 1) * n); // K task vectors, then theta0 when not stored as f32
            float[] beta = ArrayPool<float>.Shared.Rent(withBeta ? k * n : 0);
            try
            {
                ReadOnlySpan<float> theta0 = g.Theta0Tile(chunk.Start, n, tau.AsSpan(k * n, n));
                for (int t = 0; t < k; t++) g.TaskVectorTile(t, chunk.Start, theta0, tau.AsSpan(t * n, n));
                if (withBeta)
                {
                    Span<float> column = stackalloc float[k], betaColumn = stackalloc float[k], all = stackalloc float[k];
                    Span<double> s = stackalloc double[k], pair = stackalloc double[k * k];
                    for (int i = 0; i < n; i++)
                    {
                        for (int t = 0; t < k; t++) column[t] = tau[t * n + i];
                        PcbBalance.Signed(column, _low, _high, s);
                        if (skipBelow is null)
                        {
                            PcbBalance.AllBetas(s, pair, betaColumn);
                            for (int t = 0; t < k; t++) beta[t * n + i] = betaColumn[t];
                        }
                        else
                        {
                            // Same values either way: one task left needs K tanh, several share the pairs.
                            int left = 0, last = 0;
                            for (int t = 0; t < k; t++)
                            {
                                bool skip = PcbBalance.Bound(t, s) < skipBelow[t];
                                betaColumn[t] = skip ? float.NegativeInfinity : float.NaN;
                                if (!skip) { left++; last = t; }
                            }
                            if (left == 1) betaColumn[last] = PcbBalance.BetaOf(last, s);
                            else if (left > 1)
                            {
                                PcbBalance.AllBetas(s, pair, all);
                                for (int t = 0; t < k; t++) if (float.IsNaN(betaColumn[t])) betaColumn[t] = all[t];
                            }
                            for (int t = 0; t < k; t++) beta[t * n + i] = betaColumn[t];
                        }
                    }
                }
                body(chunk, n, theta0, tau.AsSpan(0, k * n), beta.AsSpan(0, withBeta ? k * n : 0));
            }
            finally
            {
                ArrayPool<float>.Shared.Return(tau);
                ArrayPool<float>.Shared.Return(beta);
            }
        });
    }

    /// <summary>The smallest float above q (a float equal to q is skipped safely too: beta_hat = 0).</summary>
    private static float NextUp(double q)
    {
        float f = (float)q;
        return f > q ? f : MathF.BitIncrement(f);
    }

    public override void WriteReport(Utf8JsonWriter writer)
    {
        writer.WriteNumber("entries_per_task", _count);
        writer.WriteStartArray("tasks");
        for (int t = 0; t < _k; t++)
        {
            writer.WriteStartObject();
            writer.WriteNumber("clip_low", _low[t]);
            writer.WriteNumber("clip_high", _high[t]);
            writer.WriteNumber("beta_threshold", _threshold[t]);
            writer.WriteNumber("beta_max", _betaMax[t]);
            writer.WriteNumber("kept_fraction", _count == 0 ? 0 : (double)_kept[t] / _count);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
