using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// Merge kernels that read bfloat16 task tensors (stored as <see cref="ushort"/> bit patterns)
/// directly and widen them in registers (bf16 -&gt; f32 is the exact <c>(uint)x &lt;&lt; 16</c>), so a
/// bf16 merge skips the f32 scratch tiles: half the bytes read per input and no conversion pass.
/// Each kernel evaluates, per element, exactly the IEEE operations of its f32 counterpart in the same
/// order (no fused multiply-add), so results are bit-identical to converting first and running
/// <see cref="TaskArithmetic.Merge"/> / <see cref="Ties.SubtractTrim"/> / <see cref="TaskArithmetic.SubtractInto"/>.
/// </summary>
public static unsafe partial class Bf16Merge
{
    /// <summary>
    /// output = theta0 + lambda * sum_k weights[k] * (thetas[k] - theta0) with bf16 task tiles at the
    /// addresses <paramref name="thetas"/> (each output.Length elements, pinned by the caller).
    /// Per element: s = w_0 (theta_1 - theta0); s = s + w_k (theta_k - theta0), k in order;
    /// out = theta0 + lambda s, as <see cref="TaskArithmetic.Merge"/>. Output must not overlap the inputs.
    /// </summary>
    public static void TaskArithmeticMerge(ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> weights, float lambda, Span<float> output) =>
        TaskArithmeticMerge(theta0, thetas, weights, lambda, output, VectorWidths.All);

    /// <summary><see cref="TaskArithmeticMerge(ReadOnlySpan{float}, ReadOnlySpan{nint}, ReadOnlySpan{float}, float, Span{float})"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static void TaskArithmeticMerge(ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> weights, float lambda, Span<float> output,
        VectorWidths widths)
    {
        if (weights.Length != thetas.Length) throw new ArgumentException($"{weights.Length} weights for {thetas.Length} tiles.", nameof(weights));
        if (theta0.Length != output.Length) throw new ArgumentException("theta0 and output must have the same length.", nameof(output));
        foreach (nint p in thetas)
            if (p == 0) throw new ArgumentException("Null tile pointer.", nameof(thetas));
        if (thetas.Length == 0) { theta0.CopyTo(output); return; }
        int taskCount = thetas.Length, n = output.Length;
        fixed (float* t0 = theta0)
        fixed (float* o = output)
        fixed (float* w = weights)
        fixed (nint* pp = thetas)
        {
            ushort** p = (ushort**)pp;
            int i = 0;
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = TaskArithmeticMerge<Vector512<float>, FloatLanes512>(t0, p, w, taskCount, lambda, o, i, n);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = TaskArithmeticMerge<Vector256<float>, FloatLanes256>(t0, p, w, taskCount, lambda, o, i, n);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = TaskArithmeticMerge<Vector128<float>, FloatLanes128>(t0, p, w, taskCount, lambda, o, i, n);
            for (; i < n; i++)
            {
                float a = t0[i];
                float s = w[0] * (ToSingle(p[0][i]) - a);
                for (int k = 1; k < taskCount; k++) s = s + w[k] * (ToSingle(p[k][i]) - a);
                o[i] = a + lambda * s;
            }
        }
    }

    /// <summary>The vector loop of <see cref="TaskArithmeticMerge(ReadOnlySpan{float}, ReadOnlySpan{nint}, ReadOnlySpan{float}, float, Span{float})"/>, two vectors per step (one bf16 load per task), from element <paramref name="i"/>.</summary>
    private static int TaskArithmeticMerge<TV, TL>(float* t0, ushort** p, float* w, int taskCount, float lambda, float* o, int i, int n)
        where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var vl = TL.Create(lambda);
        for (; i <= n - 2 * TL.Count; i += 2 * TL.Count)
        {
            var a0 = TL.Load(t0 + i);
            var b0 = TL.Load(t0 + i + TL.Count);
            var (lo, hi) = TL.LoadBf16Pair(p[0] + i);
            var w0 = TL.Create(w[0]);
            var sa = TL.Multiply(w0, TL.Subtract(lo, a0));
            var sb = TL.Multiply(w0, TL.Subtract(hi, b0));
            for (int k = 1; k < taskCount; k++)
            {
                (lo, hi) = TL.LoadBf16Pair(p[k] + i);
                var wk = TL.Create(w[k]);
                sa = TL.Add(sa, TL.Multiply(wk, TL.Subtract(lo, a0)));
                sb = TL.Add(sb, TL.Multiply(wk, TL.Subtract(hi, b0)));
            }
            TL.Store(TL.Add(a0, TL.Multiply(vl, sa)), o + i);
            TL.Store(TL.Add(b0, TL.Multiply(vl, sb)), o + i + TL.Count);
        }
        return i;
    }

    /// <summary>
    /// tau = theta - theta0, then zeroed where |tau| &lt; threshold (as <see cref="Ties.SubtractTrim"/>), theta in bf16.
    /// Returns the entries of tau that are not +-0 (TIES' kept count), counted in registers so no
    /// second pass over tau is needed.
    /// </summary>
    public static long SubtractTrim(ReadOnlySpan<ushort> theta, ReadOnlySpan<float> theta0, float threshold, Span<float> tau) =>
        SubtractTrim(theta, theta0, threshold, tau, VectorWidths.All);

    /// <summary><see cref="SubtractTrim(ReadOnlySpan{ushort}, ReadOnlySpan{float}, float, Span{float})"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static long SubtractTrim(ReadOnlySpan<ushort> theta, ReadOnlySpan<float> theta0, float threshold, Span<float> tau, VectorWidths widths)
    {
        int n = tau.Length;
        if (theta.Length != n || theta0.Length != n) throw new ArgumentException("All tiles of one kernel call must have the same length.");
        if (MemoryMarshal.AsBytes(theta).Overlaps(MemoryMarshal.AsBytes((ReadOnlySpan<float>)tau)))
            throw new ArgumentException("The bf16 input and the output overlap.", nameof(tau));
        long zeros = 0;
        fixed (float* d = tau)
        fixed (ushort* ra = theta)
        fixed (float* rb = theta0)
        {
            int i = 0;
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = SubtractTrim<Vector512<float>, FloatLanes512>(ra, rb, threshold, d, i, n, ref zeros);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = SubtractTrim<Vector256<float>, FloatLanes256>(ra, rb, threshold, d, i, n, ref zeros);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = SubtractTrim<Vector128<float>, FloatLanes128>(ra, rb, threshold, d, i, n, ref zeros);
            for (; i < n; i++)
            {
                float t = SubtractTrimOp.Apply(0f, ToSingle(ra[i]), rb[i], threshold);
                d[i] = t;
                if (t == 0f) zeros++;
            }
        }
        return n - zeros;
    }

    /// <summary>The vector loop of <see cref="SubtractTrim(ReadOnlySpan{ushort}, ReadOnlySpan{float}, float, Span{float})"/>, two vectors per step, from element <paramref name="i"/>; adds the +-0 results to <paramref name="zeros"/>.</summary>
    private static int SubtractTrim<TV, TL>(ushort* ra, float* rb, float threshold, float* d, int i, int n, ref long zeros) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var vw = TL.Create(threshold);
        var zero = TL.Zero;
        long z = 0;
        for (; i <= n - 2 * TL.Count; i += 2 * TL.Count)
        {
            var (lo, hi) = TL.LoadBf16Pair(ra + i);
            var x = SubtractTrimOp.Apply<TV, TL>(default, lo, TL.Load(rb + i), vw);
            var y = SubtractTrimOp.Apply<TV, TL>(default, hi, TL.Load(rb + i + TL.Count), vw);
            TL.Store(x, d + i);
            TL.Store(y, d + i + TL.Count);
            z += BitOperations.PopCount(TL.ExtractMostSignificantBits(TL.Equals(x, zero))) + BitOperations.PopCount(TL.ExtractMostSignificantBits(TL.Equals(y, zero)));
        }
        zeros += z;
        return i;
    }

    /// <summary>tau = theta - theta0 (as <see cref="TaskArithmetic.SubtractInto"/>), theta in bf16.</summary>
    public static void Subtract(ReadOnlySpan<ushort> theta, ReadOnlySpan<float> theta0, Span<float> tau) =>
        Run<SubtractOp>(tau, theta, theta0, 0f, VectorWidths.All);

    /// <summary><see cref="Subtract(ReadOnlySpan{ushort}, ReadOnlySpan{float}, Span{float})"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static void Subtract(ReadOnlySpan<ushort> theta, ReadOnlySpan<float> theta0, Span<float> tau, VectorWidths widths) =>
        Run<SubtractOp>(tau, theta, theta0, 0f, widths);

    /// <summary>dest[i] = TOp(dest[i], bf16(a[i]), b[i], w); dest must not overlap a.</summary>
    private static void Run<TOp>(Span<float> dest, ReadOnlySpan<ushort> a, ReadOnlySpan<float> b, float w, VectorWidths widths) where TOp : IElementwiseOp
    {
        int n = dest.Length;
        if (a.Length != n || b.Length != n) throw new ArgumentException("All tiles of one kernel call must have the same length.");
        if (MemoryMarshal.AsBytes(a).Overlaps(MemoryMarshal.AsBytes((ReadOnlySpan<float>)dest)))
            throw new ArgumentException("The bf16 input and the output overlap.", nameof(dest));
        fixed (float* d = dest)
        fixed (ushort* ra = a)
        fixed (float* rb = b)
        {
            int i = 0;
            if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Run<TOp, Vector512<float>, FloatLanes512>(d, ra, rb, w, i, n);
            if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Run<TOp, Vector256<float>, FloatLanes256>(d, ra, rb, w, i, n);
            if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Run<TOp, Vector128<float>, FloatLanes128>(d, ra, rb, w, i, n);
            for (; i < n; i++) d[i] = TOp.Apply(d[i], ToSingle(ra[i]), rb[i], w);
        }
    }

    /// <summary>The vector loop of <see cref="Run{TOp}"/>, two vectors per step (one bf16 load), from element <paramref name="i"/>.</summary>
    private static int Run<TOp, TV, TL>(float* d, ushort* ra, float* rb, float w, int i, int n) where TOp : IElementwiseOp where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var vw = TL.Create(w);
        for (; i <= n - 2 * TL.Count; i += 2 * TL.Count)
        {
            var (lo, hi) = TL.LoadBf16Pair(ra + i);
            TL.Store(TOp.Apply<TV, TL>(TL.Load(d + i), lo, TL.Load(rb + i), vw), d + i);
            TL.Store(TOp.Apply<TV, TL>(TL.Load(d + i + TL.Count), hi, TL.Load(rb + i + TL.Count), vw), d + i + TL.Count);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ToSingle(ushort x) => BitConverter.UInt32BitsToSingle((uint)x << 16);
}
