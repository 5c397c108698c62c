using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// One width of <see cref="Bf16Merge.TiesMerge"/>. Sum and mean: one pass per vector over the tasks that also
/// accumulates the sums (and weight sums) of the positive and of the negative v = w_k trimmed_k, then keeps the
/// side of the elected sign: v * g &gt; 0 is v &gt; 0 for g = +1 and v &lt; 0 for g = -1 (g = +-1 is exact), and the
/// entries that do not agree add +0 in both, so the additions are those of the two-phase kernel. Max: phase 1
/// trims and elects (storing v), phase 2 merges, as <see cref="TiesKernels.ElectMergeAddScaled"/>.
/// </summary>
internal static unsafe class Bf16Ties512
{
    public static int Run(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) =>
        st.Max ? RunMax(st, t0, o, i, n) : RunSigned(st, t0, o, RunSignedPairs(st, t0, o, i, n), n);

    /// <summary>
    /// <see cref="RunSigned"/> on two vectors per step: per task one 64-byte load, one prefetch (a cache line
    /// per step), one pointer load and one popcount for both halves, which the in-cache cost is sensitive to.
    /// </summary>
    private static int RunSignedPairs(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector512<float>.Zero;
        var vl = Vector512.Create(st.Lambda);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        bool mean = st.Mean, plusZero = st.ZeroSign > 0;
        for (; i <= n - 32; i += 32)
        {
            var a0 = Vector512.Load(t0 + i);
            var b0 = Vector512.Load(t0 + i + 16);
            Vector512<float> sa = zero, sb = zero, posA = zero, posB = zero, negA = zero, negB = zero;
            Vector512<float> wposA = zero, wposB = zero, wnegA = zero, wnegB = zero;
            for (int k = 0; k < taskCount; k++)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var (lo, hi) = Vector512.Widen(Vector512.Load(p[k] + i));
                var tauA = Vector512.ShiftLeft(lo, 16).AsSingle() - a0;
                var tauB = Vector512.ShiftLeft(hi, 16).AsSingle() - b0;
                var absA = Vector512.Abs(tauA);
                var absB = Vector512.Abs(tauB);
                var wk = Vector512.Create(w[k]);
                var tk = Vector512.Create(thr[k]);
                var vA = wk * Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(absA, tk), tauA, zero);
                var vB = wk * Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(absB, tk), tauB, zero);
                sa += vA;
                sb += vB;
                posA += Positive(vA);
                posB += Positive(vB);
                negA += Negative(vA);
                negB += Negative(vB);
                if (mean)
                {
                    wposA += Vector512.ConditionalSelect(Vector512.GreaterThan(vA, zero), wk, zero);
                    wposB += Vector512.ConditionalSelect(Vector512.GreaterThan(vB, zero), wk, zero);
                    wnegA += Vector512.ConditionalSelect(Vector512.LessThan(vA, zero), wk, zero);
                    wnegB += Vector512.ConditionalSelect(Vector512.LessThan(vB, zero), wk, zero);
                }
                var ck = Vector512.Create(cnt[k]);
                kept[k] += BitOperations.PopCount(Vector512.GreaterThanOrEqual(absA, ck).ExtractMostSignificantBits()
                    | (Vector512.GreaterThanOrEqual(absB, ck).ExtractMostSignificantBits() << 16));
            }
            (a0 + vl * Elected(sa, posA, negA, wposA, wnegA, mean, plusZero)).Store(o + i);
            (b0 + vl * Elected(sb, posB, negB, wposB, wnegB, mean, plusZero)).Store(o + i + 16);
        }
        return i;
    }

    /// <summary>The merged value from the elected sign's side: sum, or sum over the agreeing weights (0 -> 1) for mean.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Elected(Vector512<float> s, Vector512<float> pos, Vector512<float> neg, Vector512<float> wpos, Vector512<float> wneg,
        bool mean, bool plusZero)
    {
        var zero = Vector512<float>.Zero;
        var positive = plusZero ? ~Vector512.LessThan(s, zero) : Vector512.GreaterThan(s, zero);
        var result = Vector512.ConditionalSelect(positive, pos, neg);
        if (!mean) return result;
        var den = Vector512.ConditionalSelect(positive, wpos, wneg);
        return result / Vector512.ConditionalSelect(Vector512.Equals(den, zero), Vector512<float>.One, den);
    }

    private static int RunSigned(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector512<float>.Zero;
        var vl = Vector512.Create(st.Lambda);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        bool mean = st.Mean, plusZero = st.ZeroSign > 0;
        for (; i <= n - 16; i += 16)
        {
            var a0 = Vector512.Load(t0 + i);
            Vector512<float> s = zero, pos = zero, neg = zero, wpos = zero, wneg = zero;
            for (int k = 0; k < taskCount; k++)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = Widen(p[k] + i) - a0;
                var abs = Vector512.Abs(tau);
                var wk = Vector512.Create(w[k]);
                var v = wk * Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(abs, Vector512.Create(thr[k])), tau, zero);
                s += v; // from +0: only the sign of a zero sum can differ, and gamma ignores it
                pos += Positive(v);
                neg += Negative(v);
                if (mean)
                {
                    wpos += Vector512.ConditionalSelect(Vector512.GreaterThan(v, zero), wk, zero);
                    wneg += Vector512.ConditionalSelect(Vector512.LessThan(v, zero), wk, zero);
                }
                kept[k] += BitOperations.PopCount(Vector512.GreaterThanOrEqual(abs, Vector512.Create(cnt[k])).ExtractMostSignificantBits());
            }
            // g = +1 where s > 0, -1 where s < 0, the zero sign elsewhere (s = +-0 or NaN).
            var positive = plusZero ? ~Vector512.LessThan(s, zero) : Vector512.GreaterThan(s, zero);
            var result = Vector512.ConditionalSelect(positive, pos, neg);
            if (mean)
            {
                var den = Vector512.ConditionalSelect(positive, wpos, wneg);
                result /= Vector512.ConditionalSelect(Vector512.Equals(den, zero), Vector512<float>.One, den);
            }
            (a0 + vl * result).Store(o + i);
        }
        return i;
    }

    private static int RunMax(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector512<float>.Zero;
        var zs = Vector512.Create(st.ZeroSign);
        var vl = Vector512.Create(st.Lambda);
        var minusOne = Vector512.Create(-1f);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* vec = st.Vectors, thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        for (; i <= n - 16; i += 16)
        {
            var a0 = Vector512.Load(t0 + i);
            var s = zero;
            float* vk = vec;
            for (int k = 0; k < taskCount; k++, vk += 16)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = Widen(p[k] + i) - a0;
                var abs = Vector512.Abs(tau);
                var v = Vector512.Create(w[k]) * Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(abs, Vector512.Create(thr[k])), tau, zero);
                v.Store(vk);
                s += v;
                kept[k] += BitOperations.PopCount(Vector512.GreaterThanOrEqual(abs, Vector512.Create(cnt[k])).ExtractMostSignificantBits());
            }
            var g0 = (Vector512<float>.One & Vector512.GreaterThan(s, zero)) | (minusOne & Vector512.LessThan(s, zero));
            var g = Vector512.ConditionalSelect(Vector512.Equals(g0, zero), zs, g0);
            var aux = zero;
            vk = vec;
            for (int k = 0; k < taskCount; k++, vk += 16)
            {
                var v = Vector512.Load(vk);
                var m = Vector512.Abs(v);
                aux = Vector512.ConditionalSelect(Vector512.GreaterThan(v * g, zero) & Vector512.GreaterThan(m, aux), m, aux);
            }
            (a0 + vl * (aux * g)).Store(o + i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(ushort* p) => Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load(p).ToVector512Unsafe()), 16).AsSingle();

    // v where v > 0, else +0 (also for NaN): x86 max/min return their second operand when either is NaN or both are zero
    // (Vector512 is accelerated on x86 only).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Positive(Vector512<float> v) => Vector512.MaxNative(v, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Negative(Vector512<float> v) => Vector512.MinNative(v, Vector512<float>.Zero);
}
