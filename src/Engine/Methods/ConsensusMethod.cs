using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// TALL masks + Consensus Merging (Wang et al., "Localizing Task Information for Improved Model
/// Merging and Compression", ICML 2024). With tau_k = theta_k - theta0 and tau_MTL = sum_k tau_k:
/// TALL mask m_k = |tau_k| &gt;= tall_lambda * |tau_MTL - tau_k|; the consensus mask keeps entries
/// where at least `min_agree` masks are on; theta = theta0 + lambda * (tau_MTL * consensus).
/// Defaults tall_lambda 0.4 (the paper tunes it per task in [0.2, 0.6] on validation data),
/// min_agree 2, lambda 0.3.
/// Everything is per element (each mask compares an entry with the other tasks' entries at the
/// same position), so this is a per-tensor method: no global pass, nothing held between tensors
/// but two counters. The element math runs in f64 (tau_k = theta_k - theta0 is then exact), so the
/// mask comparisons do not flip on f32 rounding.
/// </summary>
public sealed class ConsensusMethod(double tallLambda, long minAgree, double lambda) : MergeMethod
{
    public static readonly MethodSpec Spec = new("consensus",
        "TALL masks + consensus: theta0 + lambda * tau_MTL * [#{k: |tau_k| >= tall_lambda |tau_MTL - tau_k|} >= min_agree]",
        [
            ParameterSpec.Float("tall_lambda", 0.4, "TALL mask threshold (the paper tunes it in [0.2, 0.6])", min: 0),
            ParameterSpec.Int("min_agree", 2, "an entry is kept when at least this many TALL masks hold it", min: 0),
            ParameterSpec.Float("lambda", 0.3, "scale of the masked multi-task vector"),
        ],
        s => new ConsensusMethod(s.Float("tall_lambda"), s.Int("min_agree"), s.Float("lambda")));

    private long _kept, _total;

    public override void Merge(TensorGroup g, Tensor merged)
    {
        int k = g.K;
        var plan = ChunkPlan.For<float>(g.Length);
        long kept = ParallelChunks.Reduce(plan, chunk =>
        {
            long keptHere = 0;
            InputTiles.ForEachTile(g, chunk, (start, n, theta0, thetas) => keptHere += ConsensusMerge.MergeTile(k, theta0, thetas, merged.Write<float>(start, n), tallLambda, minAgree, lambda));
            return keptHere;
        }, (a, b) => a + b, 0L);
        _kept += kept;
        _total += g.Length;
    }

    public override void WriteReport(Utf8JsonWriter writer)
    {
        writer.WriteNumber("kept_entries", _kept);
        writer.WriteNumber("total_entries", _total);
        writer.WriteNumber("kept_fraction", _total == 0 ? 0 : (double)_kept / _total);
    }
}
