using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// The vector loops of <see cref="Bf16Merge.TiesMerge"/>, written once, generic over the width
/// (<see cref="IFloatLanes{TV}"/>). Sum and mean: one pass per vector over the tasks that also accumulates
/// the sums (and weight sums) of the positive and of the negative v = w_k trimmed_k, then keeps the side of the
/// elected sign: v * g &gt; 0 is v &gt; 0 for g = +1 and v &lt; 0 for g = -1 (g = +-1 is exact), and the entries
/// that do not agree add +0 in both, so the additions are those of the two-phase kernel. Max: phase 1 trims and
/// elects (storing v), phase 2 merges, as <see cref="TiesKernels.ElectMergeAddScaled(float**, float*, int, float, TiesMergeMode, float*, float, float*, int)"/>.
/// </summary>
internal static unsafe class Bf16Ties
{
    /// <summary>Runs the width's loop from element <paramref name="i"/>; returns where it stopped (the scalar tail goes on from there).</summary>
    public static int Run<TV, TL>(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        if (st.Max) return RunMax<TV, TL>(st, t0, o, i, n);
        // Two vectors per step at 512 bits: per task one 64-byte load (a cache line), one prefetch, one pointer
        // load and one popcount for both halves, which the in-cache cost is sensitive to.
        if (TL.Count == 16) i = RunSignedPairs<TV, TL>(st, t0, o, i, n);
        return RunSigned<TV, TL>(st, t0, o, i, n);
    }

    /// <summary><see cref="RunSigned{TV, TL}"/> on two vectors per step (one load of 2 Count bf16 values per task).</summary>
    private static int RunSignedPairs<TV, TL>(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        var vl = TL.Create(st.Lambda);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        bool mean = st.Mean, plusZero = st.ZeroSign > 0;
        for (; i <= n - 2 * TL.Count; i += 2 * TL.Count)
        {
            var a0 = TL.Load(t0 + i);
            var b0 = TL.Load(t0 + i + TL.Count);
            TV sa = zero, sb = zero, posA = zero, posB = zero, negA = zero, negB = zero;
            TV wposA = zero, wposB = zero, wnegA = zero, wnegB = zero;
            for (int k = 0; k < taskCount; k++)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var (lo, hi) = TL.LoadBf16Pair(p[k] + i);
                var tauA = TL.Subtract(lo, a0);
                var tauB = TL.Subtract(hi, b0);
                var absA = TL.Abs(tauA);
                var absB = TL.Abs(tauB);
                var wk = TL.Create(w[k]);
                var tk = TL.Create(thr[k]);
                var vA = TL.Multiply(wk, TL.ConditionalSelect(TL.GreaterThanOrEqual(absA, tk), tauA, zero));
                var vB = TL.Multiply(wk, TL.ConditionalSelect(TL.GreaterThanOrEqual(absB, tk), tauB, zero));
                sa = TL.Add(sa, vA);
                sb = TL.Add(sb, vB);
                posA = TL.Add(posA, Positive<TV, TL>(vA));
                posB = TL.Add(posB, Positive<TV, TL>(vB));
                negA = TL.Add(negA, Negative<TV, TL>(vA));
                negB = TL.Add(negB, Negative<TV, TL>(vB));
                if (mean)
                {
                    wposA = TL.Add(wposA, TL.ConditionalSelect(TL.GreaterThan(vA, zero), wk, zero));
                    wposB = TL.Add(wposB, TL.ConditionalSelect(TL.GreaterThan(vB, zero), wk, zero));
                    wnegA = TL.Add(wnegA, TL.ConditionalSelect(TL.LessThan(vA, zero), wk, zero));
                    wnegB = TL.Add(wnegB, TL.ConditionalSelect(TL.LessThan(vB, zero), wk, zero));
                }
                var ck = TL.Create(cnt[k]);
                kept[k] += BitOperations.PopCount(TL.ExtractMostSignificantBits(TL.GreaterThanOrEqual(absA, ck))
                    | (TL.ExtractMostSignificantBits(TL.GreaterThanOrEqual(absB, ck)) << TL.Count));
            }
            TL.Store(TL.Add(a0, TL.Multiply(vl, Elected<TV, TL>(sa, posA, negA, wposA, wnegA, mean, plusZero))), o + i);
            TL.Store(TL.Add(b0, TL.Multiply(vl, Elected<TV, TL>(sb, posB, negB, wposB, wnegB, mean, plusZero))), o + i + TL.Count);
        }
        return i;
    }

    private static int RunSigned<TV, TL>(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        var vl = TL.Create(st.Lambda);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        bool mean = st.Mean, plusZero = st.ZeroSign > 0;
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var a0 = TL.Load(t0 + i);
            TV s = zero, pos = zero, neg = zero, wpos = zero, wneg = zero;
            for (int k = 0; k < taskCount; k++)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = TL.Subtract(TL.LoadBf16(p[k] + i), a0);
                var abs = TL.Abs(tau);
                var wk = TL.Create(w[k]);
                var v = TL.Multiply(wk, TL.ConditionalSelect(TL.GreaterThanOrEqual(abs, TL.Create(thr[k])), tau, zero));
                s = TL.Add(s, v); // from +0: only the sign of a zero sum can differ, and gamma ignores it
                pos = TL.Add(pos, Positive<TV, TL>(v));
                neg = TL.Add(neg, Negative<TV, TL>(v));
                if (mean)
                {
                    wpos = TL.Add(wpos, TL.ConditionalSelect(TL.GreaterThan(v, zero), wk, zero));
                    wneg = TL.Add(wneg, TL.ConditionalSelect(TL.LessThan(v, zero), wk, zero));
                }
                kept[k] += BitOperations.PopCount(TL.ExtractMostSignificantBits(TL.GreaterThanOrEqual(abs, TL.Create(cnt[k]))));
            }
            TL.Store(TL.Add(a0, TL.Multiply(vl, Elected<TV, TL>(s, pos, neg, wpos, wneg, mean, plusZero))), o + i);
        }
        return i;
    }

    /// <summary>
    /// The merged value from the elected sign's side: sum, or sum over the agreeing weights (0 -> 1) for mean.
    /// g = +1 where s &gt; 0, -1 where s &lt; 0, the zero sign elsewhere (s = +-0 or NaN).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Elected<TV, TL>(TV s, TV pos, TV neg, TV wpos, TV wneg, bool mean, bool plusZero) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        var positive = plusZero ? TL.Not(TL.LessThan(s, zero)) : TL.GreaterThan(s, zero);
        var result = TL.ConditionalSelect(positive, pos, neg);
        if (!mean) return result;
        var den = TL.ConditionalSelect(positive, wpos, wneg);
        return TL.Divide(result, TL.ConditionalSelect(TL.Equals(den, zero), TL.One, den));
    }

    private static int RunMax<TV, TL>(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        var zs = TL.Create(st.ZeroSign);
        var vl = TL.Create(st.Lambda);
        var minusOne = TL.Create(-1f);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* vec = st.Vectors, thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var a0 = TL.Load(t0 + i);
            var s = zero;
            float* vk = vec;
            for (int k = 0; k < taskCount; k++, vk += TL.Count)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = TL.Subtract(TL.LoadBf16(p[k] + i), a0);
                var abs = TL.Abs(tau);
                var v = TL.Multiply(TL.Create(w[k]), TL.ConditionalSelect(TL.GreaterThanOrEqual(abs, TL.Create(thr[k])), tau, zero));
                TL.Store(v, vk);
                s = TL.Add(s, v);
                kept[k] += BitOperations.PopCount(TL.ExtractMostSignificantBits(TL.GreaterThanOrEqual(abs, TL.Create(cnt[k]))));
            }
            var g0 = TL.Or(TL.And(TL.One, TL.GreaterThan(s, zero)), TL.And(minusOne, TL.LessThan(s, zero)));
            var g = TL.ConditionalSelect(TL.Equals(g0, zero), zs, g0);
            var aux = zero;
            vk = vec;
            for (int k = 0; k < taskCount; k++, vk += TL.Count)
            {
                var v = TL.Load(vk);
                var m = TL.Abs(v);
                aux = TL.ConditionalSelect(TL.And(TL.GreaterThan(TL.Multiply(v, g), zero), TL.GreaterThan(m, aux)), m, aux);
            }
            TL.Store(TL.Add(a0, TL.Multiply(vl, TL.Multiply(aux, g))), o + i);
        }
        return i;
    }

    // v where v > 0, else +0 (also for NaN): x86 max/min return their second operand when either is NaN or both are zero
    // (the 256- and 512-bit widths are accelerated on x86 only; elsewhere the 128-bit width masks).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Positive<TV, TL>(TV v) where TV : unmanaged where TL : IFloatLanes<TV> =>
        System.Runtime.Intrinsics.X86.Sse.IsSupported ? TL.MaxNative(v, TL.Zero) : TL.And(v, TL.GreaterThan(v, TL.Zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Negative<TV, TL>(TV v) where TV : unmanaged where TL : IFloatLanes<TV> =>
        System.Runtime.Intrinsics.X86.Sse.IsSupported ? TL.MinNative(v, TL.Zero) : TL.And(v, TL.LessThan(v, TL.Zero));
}
