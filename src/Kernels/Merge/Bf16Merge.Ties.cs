using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

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
        float zeroSign, TiesMergeMode mode, float lambda, Span<float> output, Span<long> keptCounts) =>
        TiesMerge(theta0, thetas, thresholds, weights, zeroSign, mode, lambda, output, keptCounts, VectorWidths.All);

    /// <summary><see cref="TiesMerge(ReadOnlySpan{float}, ReadOnlySpan{nint}, ReadOnlySpan{float}, ReadOnlySpan{float}, float, TiesMergeMode, float, Span{float}, Span{long})"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static void TiesMerge(ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> thresholds, ReadOnlySpan<float> weights,
        float zeroSign, TiesMergeMode mode, float lambda, Span<float> output, Span<long> keptCounts, VectorWidths widths)
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
        var vectors = stackalloc float[taskCount * FloatLanes512.Count]; // w_k * trimmed_k of the current vector, read back from L1
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
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Bf16Ties.Run<Vector512<float>, FloatLanes512>(state, t0, o, i, n);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Bf16Ties.Run<Vector256<float>, FloatLanes256>(state, t0, o, i, n);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Bf16Ties.Run<Vector128<float>, FloatLanes128>(state, t0, o, i, n);
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
