using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using Amalgam.Kernels;
using Amalgam.Kernels.Merge;

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
public sealed unsafe class Consensus(double tallLambda, long minAgree, double lambda) : MergeMethod
{
    public static readonly MethodSpec Spec = new("consensus",
        "TALL masks + consensus: theta0 + lambda * tau_MTL * [#{k: |tau_k| >= tall_lambda |tau_MTL - tau_k|} >= min_agree]",
        [
            ParameterSpec.Float("tall_lambda", 0.4, "TALL mask threshold (the paper tunes it in [0.2, 0.6])", min: 0),
            ParameterSpec.Int("min_agree", 2, "an entry is kept when at least this many TALL masks hold it", min: 0),
            ParameterSpec.Float("lambda", 0.3, "scale of the masked multi-task vector"),
        ],
        s => new Consensus(s.Float("tall_lambda"), s.Int("min_agree"), s.Float("lambda")));

    private long _kept, _total;

    public override void Merge(TensorGroup g, Tensor merged)
    {
        int k = g.K;
        var plan = ChunkPlan.For<float>(g.Length);
        long kept = ParallelChunks.Reduce(plan, chunk =>
        {
            long keptHere = 0;
            InputTiles.ForEachTile(g, chunk, (start, n, theta0, thetas) => keptHere += MergeTile(k, theta0, thetas, merged.Write<float>(start, n)));
            return keptHere;
        }, (a, b) => a + b, 0L);
        _kept += kept;
        _total += g.Length;
    }

    /// <summary>One tile (inputs already f32); returns how many entries were kept.</summary>
    private long MergeTile(int k, ReadOnlySpan<float> theta0, TileSet thetaTiles, Span<float> output)
    {
        int n = output.Length;
        Span<nint> thetas = stackalloc nint[k]; // tiles are pinned by the caller
        for (int t = 0; t < k; t++) thetas[t] = TaskVectorTiles.Address(thetaTiles[t]);
        Span<double> tau = stackalloc double[k];
        int i = 0;
        long keptHere = Vector256.IsHardwareAccelerated ? Vectorised(k, thetas, theta0, output, ref i) : 0;
        for (; i < n; i++)
        {
            double b = theta0[i], mtl = 0;
            for (int t = 0; t < k; t++)
            {
                tau[t] = ((float*)thetas[t])[i] - b;
                mtl += tau[t];
            }
            long agree = 0;
            for (int t = 0; t < k; t++)
                if (Math.Abs(tau[t]) >= tallLambda * Math.Abs(mtl - tau[t])) agree++;
            bool keep = agree >= minAgree;
            if (keep) keptHere++;
            output[i] = (float)(b + lambda * (keep ? mtl : 0.0));
        }
        return keptHere;
    }

    /// <summary>
    /// The same f64 operations in the same order as the scalar loop, 8 elements at a time (two
    /// Vector256&lt;double&gt; halves), so every element's bits match whichever path computed it.
    /// Advances <paramref name="i"/> past the elements done; returns how many were kept.
    /// </summary>
    private long Vectorised(int k, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> theta0, Span<float> output, ref int i)
    {
        Span<Vector256<double>> tau = stackalloc Vector256<double>[2 * k];
        var tall = Vector256.Create(tallLambda);
        var scale = Vector256.Create(lambda);
        var needed = Vector256.Create(minAgree);
        var kept = Vector256<long>.Zero;
        ref float b0 = ref MemoryMarshal.GetReference(theta0);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        for (; i <= theta0.Length - 8; i += 8)
        {
            var (bLow, bHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref b0, (nuint)i));
            Vector256<double> mtlLow = Vector256<double>.Zero, mtlHigh = Vector256<double>.Zero;
            for (int t = 0; t < k; t++)
            {
                var (low, high) = Vector256.Widen(Vector256.Load((float*)thetas[t] + i));
                tau[2 * t] = low - bLow;
                tau[2 * t + 1] = high - bHigh;
                mtlLow += tau[2 * t];
                mtlHigh += tau[2 * t + 1];
            }
            Vector256<long> agreeLow = Vector256<long>.Zero, agreeHigh = Vector256<long>.Zero;
            for (int t = 0; t < k; t++)
            {
                agreeLow -= Vector256.GreaterThanOrEqual(Vector256.Abs(tau[2 * t]), tall * Vector256.Abs(mtlLow - tau[2 * t])).AsInt64();
                agreeHigh -= Vector256.GreaterThanOrEqual(Vector256.Abs(tau[2 * t + 1]), tall * Vector256.Abs(mtlHigh - tau[2 * t + 1])).AsInt64();
            }
            var keepLow = Vector256.GreaterThanOrEqual(agreeLow, needed);
            var keepHigh = Vector256.GreaterThanOrEqual(agreeHigh, needed);
            kept -= keepLow + keepHigh;
            var resultLow = bLow + scale * (mtlLow & keepLow.AsDouble());
            var resultHigh = bHigh + scale * (mtlHigh & keepHigh.AsDouble());
            Vector256.Narrow(resultLow, resultHigh).StoreUnsafe(ref o0, (nuint)i);
        }
        return Vector256.Sum(kept);
    }

    public override void WriteReport(Utf8JsonWriter writer)
    {
        writer.WriteNumber("kept_entries", _kept);
        writer.WriteNumber("total_entries", _total);
        writer.WriteNumber("kept_fraction", _total == 0 ? 0 : (double)_kept / _total);
    }
}
