using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
    public static void TaskArithmeticMerge(ReadOnlySpan<float> theta0, ReadOnlySpan<nint> thetas, ReadOnlySpan<float> weights, float lambda, Span<float> output)
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
            if (Vector512.IsHardwareAccelerated)
            {
                var vl = Vector512.Create(lambda);
                for (; i <= n - 32; i += 32)
                {
                    var a0 = Vector512.Load(t0 + i);
                    var b0 = Vector512.Load(t0 + i + 16);
                    var (lo, hi) = Widen512(p[0] + i);
                    var w0 = Vector512.Create(w[0]);
                    var sa = w0 * (lo - a0);
                    var sb = w0 * (hi - b0);
                    for (int k = 1; k < taskCount; k++)
                    {
                        (lo, hi) = Widen512(p[k] + i);
                        var wk = Vector512.Create(w[k]);
                        sa += wk * (lo - a0);
                        sb += wk * (hi - b0);
                    }
                    (a0 + vl * sa).Store(o + i);
                    (b0 + vl * sb).Store(o + i + 16);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vl = Vector256.Create(lambda);
                for (; i <= n - 16; i += 16)
                {
                    var a0 = Vector256.Load(t0 + i);
                    var b0 = Vector256.Load(t0 + i + 8);
                    var (lo, hi) = Widen256(p[0] + i);
                    var w0 = Vector256.Create(w[0]);
                    var sa = w0 * (lo - a0);
                    var sb = w0 * (hi - b0);
                    for (int k = 1; k < taskCount; k++)
                    {
                        (lo, hi) = Widen256(p[k] + i);
                        var wk = Vector256.Create(w[k]);
                        sa += wk * (lo - a0);
                        sb += wk * (hi - b0);
                    }
                    (a0 + vl * sa).Store(o + i);
                    (b0 + vl * sb).Store(o + i + 8);
                }
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vl = Vector128.Create(lambda);
                for (; i <= n - 8; i += 8)
                {
                    var a0 = Vector128.Load(t0 + i);
                    var b0 = Vector128.Load(t0 + i + 4);
                    var (lo, hi) = Widen128(p[0] + i);
                    var w0 = Vector128.Create(w[0]);
                    var sa = w0 * (lo - a0);
                    var sb = w0 * (hi - b0);
                    for (int k = 1; k < taskCount; k++)
                    {
                        (lo, hi) = Widen128(p[k] + i);
                        var wk = Vector128.Create(w[k]);
                        sa += wk * (lo - a0);
                        sb += wk * (hi - b0);
                    }
                    (a0 + vl * sa).Store(o + i);
                    (b0 + vl * sb).Store(o + i + 4);
                }
            }
            for (; i < n; i++)
            {
                float a = t0[i];
                float s = w[0] * (ToSingle(p[0][i]) - a);
                for (int k = 1; k < taskCount; k++) s = s + w[k] * (ToSingle(p[k][i]) - a);
                o[i] = a + lambda * s;
            }
        }
    }

    /// <summary>
    /// tau = theta - theta0, then zeroed where |tau| &lt; threshold (as <see cref="Ties.SubtractTrim"/>), theta in bf16.
    /// Returns the entries of tau that are not +-0 (TIES' kept count), counted in registers so no
    /// second pass over tau is needed.
    /// </summary>
    public static long SubtractTrim(ReadOnlySpan<ushort> theta, ReadOnlySpan<float> theta0, float threshold, Span<float> tau)
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
            if (Vector512.IsHardwareAccelerated)
            {
                var vw = Vector512.Create(threshold);
                for (; i <= n - 32; i += 32)
                {
                    var (lo, hi) = Widen512(ra + i);
                    var x = SubtractTrimOp.Apply(default, lo, Vector512.Load(rb + i), vw);
                    var y = SubtractTrimOp.Apply(default, hi, Vector512.Load(rb + i + 16), vw);
                    x.Store(d + i);
                    y.Store(d + i + 16);
                    zeros += BitOperations.PopCount(Vector512.Equals(x, Vector512<float>.Zero).ExtractMostSignificantBits())
                           + BitOperations.PopCount(Vector512.Equals(y, Vector512<float>.Zero).ExtractMostSignificantBits());
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vw = Vector256.Create(threshold);
                for (; i <= n - 16; i += 16)
                {
                    var (lo, hi) = Widen256(ra + i);
                    var x = SubtractTrimOp.Apply(default, lo, Vector256.Load(rb + i), vw);
                    var y = SubtractTrimOp.Apply(default, hi, Vector256.Load(rb + i + 8), vw);
                    x.Store(d + i);
                    y.Store(d + i + 8);
                    zeros += BitOperations.PopCount(Vector256.Equals(x, Vector256<float>.Zero).ExtractMostSignificantBits())
                           + BitOperations.PopCount(Vector256.Equals(y, Vector256<float>.Zero).ExtractMostSignificantBits());
                }
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vw = Vector128.Create(threshold);
                for (; i <= n - 8; i += 8)
                {
                    var (lo, hi) = Widen128(ra + i);
                    var x = SubtractTrimOp.Apply(default, lo, Vector128.Load(rb + i), vw);
                    var y = SubtractTrimOp.Apply(default, hi, Vector128.Load(rb + i + 4), vw);
                    x.Store(d + i);
                    y.Store(d + i + 4);
                    zeros += BitOperations.PopCount(Vector128.Equals(x, Vector128<float>.Zero).ExtractMostSignificantBits())
                           + BitOperations.PopCount(Vector128.Equals(y, Vector128<float>.Zero).ExtractMostSignificantBits());
                }
            }
            for (; i < n; i++)
            {
                float t = SubtractTrimOp.Apply(0f, ToSingle(ra[i]), rb[i], threshold);
                d[i] = t;
                if (t == 0f) zeros++;
            }
        }
        return n - zeros;
    }

    /// <summary>tau = theta - theta0 (as <see cref="TaskArithmetic.SubtractInto"/>), theta in bf16.</summary>
    public static void Subtract(ReadOnlySpan<ushort> theta, ReadOnlySpan<float> theta0, Span<float> tau) =>
        Run<SubtractOp>(tau, theta, theta0, 0f);

    /// <summary>dest[i] = TOp(dest[i], bf16(a[i]), b[i], w); dest must not overlap a.</summary>
    private static void Run<TOp>(Span<float> dest, ReadOnlySpan<ushort> a, ReadOnlySpan<float> b, float w) where TOp : IElementwiseOp
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
            if (Vector512.IsHardwareAccelerated)
            {
                var vw = Vector512.Create(w);
                for (; i <= n - 32; i += 32)
                {
                    var (lo, hi) = Widen512(ra + i);
                    TOp.Apply(Vector512.Load(d + i), lo, Vector512.Load(rb + i), vw).Store(d + i);
                    TOp.Apply(Vector512.Load(d + i + 16), hi, Vector512.Load(rb + i + 16), vw).Store(d + i + 16);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vw = Vector256.Create(w);
                for (; i <= n - 16; i += 16)
                {
                    var (lo, hi) = Widen256(ra + i);
                    TOp.Apply(Vector256.Load(d + i), lo, Vector256.Load(rb + i), vw).Store(d + i);
                    TOp.Apply(Vector256.Load(d + i + 8), hi, Vector256.Load(rb + i + 8), vw).Store(d + i + 8);
                }
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vw = Vector128.Create(w);
                for (; i <= n - 8; i += 8)
                {
                    var (lo, hi) = Widen128(ra + i);
                    TOp.Apply(Vector128.Load(d + i), lo, Vector128.Load(rb + i), vw).Store(d + i);
                    TOp.Apply(Vector128.Load(d + i + 4), hi, Vector128.Load(rb + i + 4), vw).Store(d + i + 4);
                }
            }
            for (; i < n; i++) d[i] = TOp.Apply(d[i], ToSingle(ra[i]), rb[i], w);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ToSingle(ushort x) => BitConverter.UInt32BitsToSingle((uint)x << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float> Lo, Vector512<float> Hi) Widen512(ushort* p)
    {
        var (lo, hi) = Vector512.Widen(Vector512.Load(p));
        return (Vector512.ShiftLeft(lo, 16).AsSingle(), Vector512.ShiftLeft(hi, 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<float> Lo, Vector256<float> Hi) Widen256(ushort* p)
    {
        var (lo, hi) = Vector256.Widen(Vector256.Load(p));
        return (Vector256.ShiftLeft(lo, 16).AsSingle(), Vector256.ShiftLeft(hi, 16).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float> Lo, Vector128<float> Hi) Widen128(ushort* p)
    {
        var (lo, hi) = Vector128.Widen(Vector128.Load(p));
        return (Vector128.ShiftLeft(lo, 16).AsSingle(), Vector128.ShiftLeft(hi, 16).AsSingle());
    }
}
