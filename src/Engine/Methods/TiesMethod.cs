using System.Collections.Concurrent;
using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Selection;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// TIES-Merging (Yadav et al., NeurIPS 2023): trim, elect sign, disjoint merge; theta = theta0 + lambda * merged.
/// <list type="number">
/// <item>Trim. scope=global: per task, threshold t_k = the r-th largest |tau_k| over the whole task
/// vector (all shared tensors, d entries), r = min(floor(k*d) + 1, d) with k*d in double; entries
/// with |tau_k| &gt;= t_k are kept. This is FusionBench's / AdaMerging's `topk_values_mask`
/// (EnnengYang/AdaMerging src/ties_merging_utils.py, same in tanganke/fusion_bench): `k = int(d * K);
/// k = d - k; kth = M.abs().kthvalue(k)` (the (d - floor(dK))-th smallest = the (floor(dK)+1)-th
/// largest), `mask = M.abs() &gt;= kth`; k = 1 keeps everything. scope=tensor: per tensor keep exactly
/// floor(k*numel) entries (at least 1), lower index winning ties.</item>
/// <item>Elect: gamma = sign(sum_k w_k trimmed_k) (weights applied before electing, as mergekit).
/// Where gamma = 0: zero_sign=plus uses +1; zero_sign=majority uses the sign of sum(gamma) over the
/// whole model, and -1 when that sum is 0 (the reference's `where(sign &gt; 0, T &gt; 0, T &lt; 0)`
/// keeps the negative entries where the sign stayed 0).</item>
/// <item>Disjoint merge over entries v = w_k trimmed_k with sign(v) = gamma: sum; mean = sum v /
/// sum of w_k over the agreeing entries (with unit weights: the mean over the agreeing non-zero
/// entries; with weights: mergekit's normalised TIES); max = the agreeing v of largest |v|.</item>
/// </list>
/// compat presets (defaults of the other options): fusionbench (default; = AdaMerging): global,
/// majority, sum, lambda 0.3; mergekit: tensor, plus, mean, lambda 1; paper: global, majority,
/// mean, lambda 1. Memory: global scope holds per task a 384 KiB histogram (then a refinement of
/// 512 KiB per planned bucket) and per worker thread K + 1 tiles of TensorGroup.TileElements f32
/// (inputs converted per tile, subtraction and trim fused when there is no drop); tensor scope holds the
/// K trimmed task vectors of the current tensor (K x numel f32).
/// An optional <see cref="DareDrop"/> is applied to each task vector first (dare_ties).
/// </summary>
public class TiesMethod : MergeMethod
{
    public static readonly MethodSpec Spec = BuildSpec("ties", "TIES-Merging: trim to the top k, elect signs, disjoint merge", 0.3, [],
        s => new TiesMethod(TiesOptions.From(s), drop: null));

    /// <summary>The TIES parameters and compat presets (shared with dare_ties, which adds DARE's and its own lambda default).</summary>
    internal static MethodSpec BuildSpec(string name, string description, double lambdaDefault, IReadOnlyList<ParameterSpec> extra,
        Func<MergeSettings, MergeMethod> create)
    {
        string lambdaText = lambdaDefault.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        IReadOnlyList<ParameterSpec> parameters =
        [
            .. extra,
            ParameterSpec.Float("k", 0.2, "fraction of each task vector kept by the trim (top |tau|)", min: 0, max: 1, minExclusive: true),
            ParameterSpec.Choice("scope", "global", "trim threshold over the whole task vector or per tensor", "global", "tensor"),
            ParameterSpec.Choice("zero_sign", "majority", "sign used where the elected sign is 0: the model's majority or +1", "majority", "plus"),
            ParameterSpec.Choice("merge", "sum", "disjoint merge: sum, mean (over agreeing entries' weights), max (largest |value|)", "sum", "mean", "max"),
            ParameterSpec.Float("lambda", lambdaDefault, "scale of the merged task vector"),
            ParameterSpec.PerTask("weights", 1.0, "per-task weight w_k, applied before electing"),
            ParameterSpec.Choice("compat", "fusionbench",
                $"reference whose defaults of scope, zero_sign, merge, lambda to use: fusionbench (= AdaMerging) global, majority, sum, {lambdaText}; mergekit tensor, plus, mean, 1; paper global, majority, mean, 1",
                "fusionbench", "mergekit", "paper"),
        ];
        static Dictionary<string, string> Preset(string scope, string zeroSign, string merge, string lambda) =>
            new() { ["scope"] = scope, ["zero_sign"] = zeroSign, ["merge"] = merge, ["lambda"] = lambda };
        return new MethodSpec(name, description, parameters, create)
        {
            Presets = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>
            {
                ["compat"] = new Dictionary<string, IReadOnlyDictionary<string, string>>
                {
                    ["fusionbench"] = Preset("global", "majority", "sum", lambdaText),
                    ["mergekit"] = Preset("tensor", "plus", "mean", "1"),
                    ["paper"] = Preset("global", "majority", "mean", "1"),
                },
            },
        };
    }

    private delegate void TrimmedChunkBody(Chunk chunk, TileSet trimmed);

    private readonly TiesOptions _o;
    private readonly DareDrop? _drop;
    private readonly float[] _weights;
    private readonly bool _global;
    private readonly bool _majority;
    private readonly ConcurrentBag<MagnitudeHistogram[]> _histograms = [];
    private readonly ConcurrentBag<MagnitudeRefinement[]> _refinements = [];
    private MagnitudeRefinement[]? _plan;
    private long _entries, _rank;
    private float[]? _thresholds;
    private long _signSum;
    private float _zeroSign;
    private readonly long[] _kept;
    private long _merged;

    public TiesMethod(TiesOptions options, DareDrop? drop)
    {
        _o = options;
        _drop = drop;
        _weights = options.Weights.Select(w => (float)w).ToArray();
        _global = options.Scope == TiesScope.Global;
        _majority = options.MajorityZeroSign;
        _zeroSign = 1f;
        _kept = new long[options.Weights.Count];
    }

    public override int PrepassCount => (_global ? 2 : 0) + (_majority ? 1 : 0);

    /// <summary>Per-task trim thresholds after the global prepasses (AdaMerging++ reuses TIES' trim and sign election).</summary>
    internal IReadOnlyList<float> Thresholds => _thresholds ?? [];

    /// <summary>The sign used where the elected sign is 0 (after the majority prepass, else +1).</summary>
    internal float ZeroSign => _zeroSign;

    private int SignPass => _global ? 2 : 0;

    public override void Observe(int pass, TensorGroup g)
    {
        if (_global && pass == 0)
            ForEachTaskChunk(g,
                () => _histograms.TryTake(out var set) ? set : Enumerable.Range(0, g.K).Select(_ => new MagnitudeHistogram()).ToArray(),
                set => _histograms.Add(set), (h, tau) => h.Add(tau));
        else if (_global && pass == 1)
            ForEachTaskChunk(g,
                () => _refinements.TryTake(out var set) ? set : _plan!.Select(r => r.CreateEmptyCopy()).ToArray(),
                set => _refinements.Add(set), (r, tau) => r.Add(tau));
        else if (pass == SignPass)
            ForEachTrimmedTile(g, (start, theta0, trimmed) =>
            {
                float[] gamma = System.Buffers.ArrayPool<float>.Shared.Rent(trimmed.Length);
                long s = Ties.ElectSign(trimmed, _weights, gamma.AsSpan(0, trimmed.Length));
                System.Buffers.ArrayPool<float>.Shared.Return(gamma);
                Interlocked.Add(ref _signSum, s);
            });
    }

    public override void EndPrepass(int pass)
    {
        if (_global && pass == 0)
        {
            var all = _histograms.ToArray();
            _histograms.Clear();
            var total = all.Length > 0 ? all[0] : null;
            for (int i = 1; i < all.Length; i++)
                for (int k = 0; k < total!.Length; k++) total[k].Merge(all[i][k]);
            _entries = total?[0].Count ?? 0;
            _rank = Math.Min((long)Math.Floor(_o.K * _entries) + 1, _entries);
            _plan = total?.Select(h => h.Refine(_rank)).ToArray();
        }
        else if (_global && pass == 1)
        {
            var all = _refinements.ToArray();
            _refinements.Clear();
            if (all.Length > 0)
            {
                for (int i = 1; i < all.Length; i++)
                    for (int k = 0; k < all[0].Length; k++) all[0][k].Merge(all[i][k]);
                _thresholds = all[0].Select(r => r.KthLargest(_rank)).ToArray();
            }
            _plan = null;
        }
        else if (pass == SignPass)
            _zeroSign = _signSum > 0 ? 1f : -1f;
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        float lambda = (float)_o.Lambda;
        var mode = _o.Merge;
        if (_global && _drop is null && g.AllTasksBf16)
        {
            MergeBf16(g, merged, lambda, mode);
            return;
        }
        ForEachTrimmedTile(g, (start, theta0, trimmed) =>
        {
            int n = trimmed.Length;
            // Elect, disjoint merge and theta0 + lambda * merged in one fused pass (same bits as the three kernels in turn).
            Ties.ElectMergeAddScaled(trimmed, _weights, _zeroSign, mode, theta0, lambda, merged.Write<float>(start, n));
        }, _kept);
        _merged += g.Length;
    }

    /// <summary>
    /// Global scope without a drop, every task stored as bf16: trim, elect, merge and theta0 + lambda * merged
    /// in one fused kernel that reads the bf16 tiles in place (same bits as the f32-tile path).
    /// </summary>
    private void MergeBf16(TensorGroup g, Tensor merged, float lambda, TiesMergeMode mode)
    {
        float[] thresholds = _thresholds ?? new float[g.K];
        ParallelChunks.For(ChunkPlan.For<float>(g.Length), chunk =>
        {
            long[] chunkKept = new long[g.K]; // per chunk, not per tile
            InputTiles.ForEachBf16Tile(g, chunk, (start, n, theta0, thetas) =>
                Bf16Merge.TiesMerge(theta0, thetas, thresholds, _weights, _zeroSign, mode, lambda, merged.Write<float>(start, n), chunkKept));
            for (int k = 0; k < g.K; k++) Interlocked.Add(ref _kept[k], chunkKept[k]);
        });
        _merged += g.Length;
    }

    public override void WriteReport(Utf8JsonWriter w)
    {
        if (_global)
        {
            w.WriteNumber("global_entries", _entries);
            w.WriteNumber("threshold_rank", _rank);
            w.WriteStartArray("thresholds");
            foreach (float t in _thresholds ?? []) w.WriteNumberValue(t);
            w.WriteEndArray();
        }
        w.WriteStartArray("kept_fractions");
        foreach (long kept in _kept) w.WriteNumberValue(_merged == 0 ? 0 : (double)kept / _merged);
        w.WriteEndArray();
        if (_majority) w.WriteNumber("majority_sign", (int)_zeroSign);
    }

    private delegate void TileAdd<TStat>(TStat statistic, ReadOnlySpan<float> tau);

    /// <summary>
    /// Adds every tile of the task vectors (DARE-dropped if set) to per-task statistics, chunks in
    /// parallel: each chunk takes one set of K statistics (<paramref name="take"/>), adds tau_k to
    /// statistic k, and gives the set back (<paramref name="give"/>).
    /// </summary>
    private void ForEachTaskChunk<TStat>(TensorGroup g, Func<TStat[]> take, Action<TStat[]> give, TileAdd<TStat> add)
    {
        float[]? scales = _drop?.Scales(g);
        ParallelChunks.For(ChunkPlan.For<float>(g.Length), chunk =>
        {
            var set = take();
            TaskVectors.ForEachTile(g, chunk, _drop, scales, (_, n, _, taus) =>
            {
                for (int k = 0; k < set.Length; k++) add(set[k], taus.Slice(k * n, n));
            });
            give(set);
        });
    }

    private delegate void TrimmedTileBody(long start, ReadOnlySpan<float> theta0, TileSet trimmed);

    /// <summary>Trimmed task vectors with theta0, tile by tile: streamed (global scope) or trimmed per whole tensor first (tensor scope).</summary>
    private void ForEachTrimmedTile(TensorGroup g, TrimmedTileBody body, long[]? kept = null)
    {
        int count = g.K;
        if (_global)
        {
            float[] thresholds = _thresholds ?? new float[count];
            float[]? scales = _drop?.Scales(g);
            ParallelChunks.For(ChunkPlan.For<float>(g.Length), chunk =>
            {
                long[]? chunkKept = kept is null ? null : new long[count]; // counted while forming the tiles
                TaskVectors.ForEachTile(g, chunk, _drop, scales,
                    (start, n, theta0, taus) => body(start, theta0, new TileSet(taus, count, n)), thresholds, chunkKept);
                if (chunkKept is not null)
                    for (int k = 0; k < count; k++) Interlocked.Add(ref kept![k], chunkKept[k]);
            });
            return;
        }
        using var whole = TrimmedTensor(g);
        int length = (int)g.Length;
        ParallelChunks.For(ChunkPlan.For<float>(g.Length), chunk =>
        {
            int n = (int)chunk.Length;
            float[] scratch = System.Buffers.ArrayPool<float>.Shared.Rent(n);
            try
            {
                var stacked = whole.Read<float>(0, count * length);
                var trimmed = new TileSet(stacked, count, length).Slice((int)chunk.Start, n);
                body(chunk.Start, g.Theta0Tile(chunk.Start, n, scratch), trimmed);
                if (kept is not null)
                    for (int k = 0; k < count; k++) Interlocked.Add(ref kept[k], NonZero.Count(trimmed[k]));
            }
            finally
            {
                System.Buffers.ArrayPool<float>.Shared.Return(scratch);
            }
        });
    }

    /// <summary>Scope=tensor: the K task vectors of the whole tensor, each trimmed to its top floor(k*numel) (at least 1).</summary>
    private Tensor TrimmedTensor(TensorGroup g)
    {
        int length = checked((int)g.Length);
        var whole = Tensor.Allocate(g.Name + ".trimmed", DType.F32, [g.K, length], zero: false);
        try
        {
            float[]? scales = _drop?.Scales(g);
            ParallelChunks.For(ChunkPlan.For<float>(g.Length), chunk =>
                TaskVectors.ForEachTile(g, chunk, _drop, scales, (start, n, _, taus) =>
                {
                    for (int k = 0; k < g.K; k++) taus.Slice(k * n, n).CopyTo(whole.Write<float>((long)k * length + start, n));
                }));
            Parallel.For(0, g.K, new ParallelOptions { MaxDegreeOfParallelism = Parallelism.MaxThreads },
                k => Ties.TrimTensorInPlace(whole.Write<float>((long)k * length, length), _o.K));
            return whole;
        }
        catch
        {
            whole.Dispose();
            throw;
        }
    }
}

public enum TiesScope { Global, Tensor }

/// <summary>Effective TIES options (after compat presets).</summary>
public sealed record TiesOptions(double K, TiesScope Scope, bool MajorityZeroSign, TiesMergeMode Merge, double Lambda, IReadOnlyList<double> Weights, string Compat)
{
    public static TiesOptions From(MergeSettings s)
    {
        if (s.TaskCount > Amalgam.Kernels.Merge.Ties.MaxTasks)
            throw new BadInputException($"{s.Method.Name}: {s.TaskCount} models given; TIES merges at most {Amalgam.Kernels.Merge.Ties.MaxTasks}");
        return new(
        s.Float("k"),
        s.Choice("scope") == "tensor" ? TiesScope.Tensor : TiesScope.Global,
        s.Choice("zero_sign") == "majority",
        s.Choice("merge") switch { "mean" => TiesMergeMode.Mean, "max" => TiesMergeMode.Max, _ => TiesMergeMode.Sum },
        s.Float("lambda"),
        s.PerTask("weights"),
        s.Choice("compat"));
    }
}
