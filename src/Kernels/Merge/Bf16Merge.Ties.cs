using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

public static unsafe partial class Bf16Merge
{
    /// <summary>
    /// The whole TIES merge pass of a tile with bf16 task tiles (global-scope trim, no drop), fused
    /// per vector of elements: output = theta0 + lambda * DisjointMerge(trimmed, ElectSign(trimmed))
    /// with trimmed_k = SubtractTrim(bf16(thetas[k]), theta0, thresholds[k]). Every element gets the
    /// IEEE operations of <see cref="SubtractTrim"/> per task, then <see cref="Ties.ElectMergeAddScaled"/>,
    /// in the same order (bit-identical), but the K bf16 tiles are read once, interleaved, widened in
    /// registers, and no f32 task-vector tile is written. When <paramref name="keptCounts"/> is not
    /// empty, entry k is increased by the trimmed entries of task k that are not +-0.
    /// Tiles at <paramref name="thetas"/> hold output.Length bf16 values each (pinned by the caller);
    /// weights empty = all 1; output must not overlap the inputs.
    /// </summary>
    public static void TiesMerge(ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> thresholds, ReadOnlySpan<float> weights,
        float zeroSign, TiesMergeMode mode, float lambda, Span<float> output, Span<long> keptCounts)
    {
        int taskCount = thetas.Length, n = output.Length;
        if (theta0.Length != n) throw new ArgumentException("theta0 and output must have the same length.", nameof(theta0));
        if (thresholds.Length != taskCount) throw new ArgumentException($"{thresholds.Length} thresholds for {taskCount} tiles.", nameof(thresholds));
        if (!weights.IsEmpty && weights.Length != taskCount) throw new ArgumentException($"{weights.Length} weights for {taskCount} tiles.", nameof(weights));
        if (!keptCounts.IsEmpty && keptCounts.Length != taskCount) throw new ArgumentException($"{keptCounts.Length} kept counts for {taskCount} tiles.", nameof(keptCounts));
        if (taskCount > Ties.MaxTasks) throw new ArgumentOutOfRangeException(nameof(thetas), taskCount, $"At most {Ties.MaxTasks} tasks per call.");
        if (zeroSign is not (1f or -1f)) throw new ArgumentOutOfRangeException(nameof(zeroSign), zeroSign, "zeroSign must be +1 or -1.");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown TIES merge mode.");
        foreach (nint p in thetas)
            if (p == 0) throw new ArgumentException("Null tile pointer.", nameof(thetas));
        if (taskCount == 0)
        {
            for (int i = 0; i < n; i++) output[i] = theta0[i] + lambda * 0f; // AddScaled of an all-zero merge
            return;
        }
        Span<float> w = stackalloc float[taskCount];
        if (weights.IsEmpty) w.Fill(1f); else weights.CopyTo(w);
        // trimmed != +-0 <=> |tau| >= max(t, smallest subnormal) (a NaN t keeps nothing either way), so
        // the kept count is one compare of |tau|.
        Span<float> countAt = stackalloc float[taskCount];
        for (int k = 0; k < taskCount; k++)
            countAt[k] = thresholds[k] > 0f || float.IsNaN(thresholds[k]) ? thresholds[k] : float.Epsilon;
        Span<long> kept = stackalloc long[taskCount];
        kept.Clear();
        var vectors = stackalloc float[taskCount * Vector512<float>.Count]; // w_k * trimmed_k of the current vector, read back from L1
        fixed (float* t0 = theta0)
        fixed (float* o = output)
        fixed (float* thr = thresholds)
        fixed (float* cnt = countAt)
        fixed (float* wp = w)
        fixed (long* kp = kept)
        fixed (nint* pp = thetas)
        {
            var state = new TiesState((ushort**)pp, taskCount, thr, cnt, wp, zeroSign, mode, lambda, vectors, kp);
            int i = 0;
            if (Vector512.IsHardwareAccelerated) i = BfTies512.Run(state, t0, o, i, n);
            if (Vector256.IsHardwareAccelerated) i = BfTies256.Run(state, t0, o, i, n);
            if (Vector128.IsHardwareAccelerated) i = BfTies128.Run(state, t0, o, i, n);
            for (; i < n; i++) o[i] = TiesScalar(state, t0[i], i);
        }
        for (int k = 0; k < keptCounts.Length; k++) keptCounts[k] += kept[k];
    }

    /// <summary>
    /// Asks for the cache line <see cref="PrefetchElements"/> bf16 values ahead. The kernel reads K + 1
    /// streams at once, more than the hardware prefetchers follow well; without this it waits on memory
    /// (measured in thread CPU time over 16M elements, K = 8, one thread: 23-25 ms without, 19 ms with 256 to
    /// 1024 elements ahead, 22 ms at 2048). A prefetch never faults, so reading past the tile is harmless.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchAhead(ushort* p)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + PrefetchElements);
    }

    /// <summary>Prefetch distance of the fused bf16 kernels, in elements (1 KiB of each stream).</summary>
    internal const int PrefetchElements = 512;

    /// <summary>Loop-invariant arguments of the fused bf16 TIES kernel.</summary>
    internal readonly struct TiesState(ushort** p, int taskCount, float* thresholds, float* countAt, float* weights,
        float zeroSign, TiesMergeMode mode, float lambda, float* vectors, long* kept)
    {
        public readonly ushort** P = p;
        public readonly int TaskCount = taskCount;
        public readonly float* Thresholds = thresholds, CountAt = countAt, Weights = weights, Vectors = vectors;
        public readonly bool Max = mode == TiesMergeMode.Max, Mean = mode == TiesMergeMode.Mean;
        public readonly float ZeroSign = zeroSign, Lambda = lambda;
        public readonly long* Kept = kept;
    }

    private static float TiesScalar(in TiesState st, float a, int i)
    {
        float s = 0f;
        for (int k = 0; k < st.TaskCount; k++)
        {
            float tau = ToSingle(st.P[k][i]) - a;
            float t = MathF.Abs(tau) >= st.Thresholds[k] ? tau : 0f;
            float v = st.Weights[k] * t;
            st.Vectors[k] = v;
            s += v; // from +0: only the sign of a zero sum can differ, and gamma ignores it
            if (t != 0f) st.Kept[k]++;
        }
        float g = s > 0f ? 1f : s < 0f ? -1f : st.ZeroSign;
        float acc = 0f, aux = 0f;
        for (int k = 0; k < st.TaskCount; k++)
        {
            float v = st.Vectors[k];
            bool agrees = v * g > 0f;
            if (st.Max)
            {
                float m = MathF.Abs(v);
                if (agrees && m > aux) aux = m;
            }
            else
            {
                acc += agrees ? v : 0f;
                if (st.Mean) aux += agrees ? st.Weights[k] : 0f;
            }
        }
        float result = st.Max ? aux * g : st.Mean ? acc / (aux == 0f ? 1f : aux) : acc;
        return a + st.Lambda * result;
    }
}

/// <summary>
/// One width of <see cref="Bf16Merge.TiesMerge"/>. Sum and mean: one pass per vector over the tasks that also
/// accumulates the sums (and weight sums) of the positive and of the negative v = w_k trimmed_k, then keeps the
/// side of the elected sign: v * g &gt; 0 is v &gt; 0 for g = +1 and v &lt; 0 for g = -1 (g = +-1 is exact), and the
/// entries that do not agree add +0 in both, so the additions are those of the two-phase kernel. Max: phase 1
/// trims and elects (storing v), phase 2 merges, as <see cref="TiesKernels.ElectMergeAddScaled"/>.
/// </summary>
file static unsafe class BfTies512
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

/// <inheritdoc cref="BfTies512"/>
file static unsafe class BfTies256
{
    public static int Run(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) =>
        st.Max ? RunMax(st, t0, o, i, n) : RunSigned(st, t0, o, i, n);

    private static int RunSigned(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector256<float>.Zero;
        var vl = Vector256.Create(st.Lambda);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        bool mean = st.Mean, plusZero = st.ZeroSign > 0;
        for (; i <= n - 8; i += 8)
        {
            var a0 = Vector256.Load(t0 + i);
            Vector256<float> s = zero, pos = zero, neg = zero, wpos = zero, wneg = zero;
            for (int k = 0; k < taskCount; k++)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = Widen(p[k] + i) - a0;
                var abs = Vector256.Abs(tau);
                var wk = Vector256.Create(w[k]);
                var v = wk * Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(thr[k])), tau, zero);
                s += v; // from +0: only the sign of a zero sum can differ, and gamma ignores it
                pos += Positive(v);
                neg += Negative(v);
                if (mean)
                {
                    wpos += Vector256.ConditionalSelect(Vector256.GreaterThan(v, zero), wk, zero);
                    wneg += Vector256.ConditionalSelect(Vector256.LessThan(v, zero), wk, zero);
                }
                kept[k] += BitOperations.PopCount(Vector256.GreaterThanOrEqual(abs, Vector256.Create(cnt[k])).ExtractMostSignificantBits());
            }
            // g = +1 where s > 0, -1 where s < 0, the zero sign elsewhere (s = +-0 or NaN).
            var positive = plusZero ? ~Vector256.LessThan(s, zero) : Vector256.GreaterThan(s, zero);
            var result = Vector256.ConditionalSelect(positive, pos, neg);
            if (mean)
            {
                var den = Vector256.ConditionalSelect(positive, wpos, wneg);
                result /= Vector256.ConditionalSelect(Vector256.Equals(den, zero), Vector256<float>.One, den);
            }
            (a0 + vl * result).Store(o + i);
        }
        return i;
    }

    private static int RunMax(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector256<float>.Zero;
        var zs = Vector256.Create(st.ZeroSign);
        var vl = Vector256.Create(st.Lambda);
        var minusOne = Vector256.Create(-1f);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* vec = st.Vectors, thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        for (; i <= n - 8; i += 8)
        {
            var a0 = Vector256.Load(t0 + i);
            var s = zero;
            float* vk = vec;
            for (int k = 0; k < taskCount; k++, vk += 8)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = Widen(p[k] + i) - a0;
                var abs = Vector256.Abs(tau);
                var v = Vector256.Create(w[k]) * Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(abs, Vector256.Create(thr[k])), tau, zero);
                v.Store(vk);
                s += v;
                kept[k] += BitOperations.PopCount(Vector256.GreaterThanOrEqual(abs, Vector256.Create(cnt[k])).ExtractMostSignificantBits());
            }
            var g0 = (Vector256<float>.One & Vector256.GreaterThan(s, zero)) | (minusOne & Vector256.LessThan(s, zero));
            var g = Vector256.ConditionalSelect(Vector256.Equals(g0, zero), zs, g0);
            var aux = zero;
            vk = vec;
            for (int k = 0; k < taskCount; k++, vk += 8)
            {
                var v = Vector256.Load(vk);
                var m = Vector256.Abs(v);
                aux = Vector256.ConditionalSelect(Vector256.GreaterThan(v * g, zero) & Vector256.GreaterThan(m, aux), m, aux);
            }
            (a0 + vl * (aux * g)).Store(o + i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(ushort* p) => Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load(p).ToVector256Unsafe()), 16).AsSingle();

    // v where v > 0, else +0 (also for NaN): x86 max/min return their second operand when either is NaN or both are zero
    // (Vector256 is accelerated on x86 only).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Positive(Vector256<float> v) => Vector256.MaxNative(v, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Negative(Vector256<float> v) => Vector256.MinNative(v, Vector256<float>.Zero);
}

/// <inheritdoc cref="BfTies512"/>
file static unsafe class BfTies128
{
    public static int Run(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n) =>
        st.Max ? RunMax(st, t0, o, i, n) : RunSigned(st, t0, o, i, n);

    private static int RunSigned(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector128<float>.Zero;
        var vl = Vector128.Create(st.Lambda);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        bool mean = st.Mean, plusZero = st.ZeroSign > 0;
        for (; i <= n - 4; i += 4)
        {
            var a0 = Vector128.Load(t0 + i);
            Vector128<float> s = zero, pos = zero, neg = zero, wpos = zero, wneg = zero;
            for (int k = 0; k < taskCount; k++)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = Widen(p[k] + i) - a0;
                var abs = Vector128.Abs(tau);
                var wk = Vector128.Create(w[k]);
                var v = wk * Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(abs, Vector128.Create(thr[k])), tau, zero);
                s += v; // from +0: only the sign of a zero sum can differ, and gamma ignores it
                pos += Positive(v);
                neg += Negative(v);
                if (mean)
                {
                    wpos += Vector128.ConditionalSelect(Vector128.GreaterThan(v, zero), wk, zero);
                    wneg += Vector128.ConditionalSelect(Vector128.LessThan(v, zero), wk, zero);
                }
                kept[k] += BitOperations.PopCount(Vector128.GreaterThanOrEqual(abs, Vector128.Create(cnt[k])).ExtractMostSignificantBits());
            }
            // g = +1 where s > 0, -1 where s < 0, the zero sign elsewhere (s = +-0 or NaN).
            var positive = plusZero ? ~Vector128.LessThan(s, zero) : Vector128.GreaterThan(s, zero);
            var result = Vector128.ConditionalSelect(positive, pos, neg);
            if (mean)
            {
                var den = Vector128.ConditionalSelect(positive, wpos, wneg);
                result /= Vector128.ConditionalSelect(Vector128.Equals(den, zero), Vector128<float>.One, den);
            }
            (a0 + vl * result).Store(o + i);
        }
        return i;
    }

    private static int RunMax(in Bf16Merge.TiesState st, float* t0, float* o, int i, int n)
    {
        var zero = Vector128<float>.Zero;
        var zs = Vector128.Create(st.ZeroSign);
        var vl = Vector128.Create(st.Lambda);
        var minusOne = Vector128.Create(-1f);
        int taskCount = st.TaskCount;
        ushort** p = st.P;
        float* vec = st.Vectors, thr = st.Thresholds, cnt = st.CountAt, w = st.Weights;
        long* kept = st.Kept;
        for (; i <= n - 4; i += 4)
        {
            var a0 = Vector128.Load(t0 + i);
            var s = zero;
            float* vk = vec;
            for (int k = 0; k < taskCount; k++, vk += 4)
            {
                Bf16Merge.PrefetchAhead(p[k] + i);
                var tau = Widen(p[k] + i) - a0;
                var abs = Vector128.Abs(tau);
                var v = Vector128.Create(w[k]) * Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(abs, Vector128.Create(thr[k])), tau, zero);
                v.Store(vk);
                s += v;
                kept[k] += BitOperations.PopCount(Vector128.GreaterThanOrEqual(abs, Vector128.Create(cnt[k])).ExtractMostSignificantBits());
            }
            var g0 = (Vector128<float>.One & Vector128.GreaterThan(s, zero)) | (minusOne & Vector128.LessThan(s, zero));
            var g = Vector128.ConditionalSelect(Vector128.Equals(g0, zero), zs, g0);
            var aux = zero;
            vk = vec;
            for (int k = 0; k < taskCount; k++, vk += 4)
            {
                var v = Vector128.Load(vk);
                var m = Vector128.Abs(v);
                aux = Vector128.ConditionalSelect(Vector128.GreaterThan(v * g, zero) & Vector128.GreaterThan(m, aux), m, aux);
            }
            (a0 + vl * (aux * g)).Store(o + i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Widen(ushort* p) => Vector128.ShiftLeft(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(ulong*)p).AsUInt16()), 16).AsSingle();

    // v where v > 0, else +0 (also for NaN). x86 max/min return their second operand when either is NaN or both are zero.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Positive(Vector128<float> v) =>
        System.Runtime.Intrinsics.X86.Sse.IsSupported ? Vector128.MaxNative(v, Vector128<float>.Zero) : v & Vector128.GreaterThan(v, Vector128<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Negative(Vector128<float> v) =>
        System.Runtime.Intrinsics.X86.Sse.IsSupported ? Vector128.MinNative(v, Vector128<float>.Zero) : v & Vector128.LessThan(v, Vector128<float>.Zero);
}
