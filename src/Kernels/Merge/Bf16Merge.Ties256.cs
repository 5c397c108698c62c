using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

// The 256- and 128-bit widths of Bf16Merge.TiesMerge (see Bf16Merge.Ties512.cs for the scheme).

/// <inheritdoc cref="Bf16Ties512"/>
internal static unsafe class Bf16Ties256
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

/// <inheritdoc cref="Bf16Ties512"/>
internal static unsafe class Bf16Ties128
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
