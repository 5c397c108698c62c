using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// The element math of TALL masks + Consensus Merging (Wang et al., ICML 2024) on one tile of K
/// models: tau_k = theta_k - theta0 and tau_MTL = sum_k tau_k in f64, m_k = |tau_k| &gt;= tall_lambda
/// |tau_MTL - tau_k|, keep where at least min_agree masks hold, out = theta0 + lambda * (keep ? tau_MTL : 0).
/// </summary>
public static unsafe class ConsensusMerge
{
    /// <summary>One tile (inputs already f32); returns how many entries were kept.</summary>
    public static long MergeTile(int k, ReadOnlySpan<float> theta0, TileSet thetaTiles, Span<float> output, double tallLambda, long minAgree, double lambda)
    {
        int n = output.Length;
        Span<nint> thetas = stackalloc nint[k]; // tiles are pinned by the caller
        for (int t = 0; t < k; t++) thetas[t] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(thetaTiles[t]));
        Span<double> tau = stackalloc double[k];
        int i = 0;
        long keptHere = Vector256.IsHardwareAccelerated ? Vectorised(k, thetas, theta0, output, tallLambda, minAgree, lambda, ref i) : 0;
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
    private static long Vectorised(int k, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> theta0, Span<float> output, double tallLambda, long minAgree, double lambda, ref int i)
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
}
