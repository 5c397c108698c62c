using System.Runtime.Intrinsics;
using V128 = System.Runtime.Intrinsics.Vector128<float>;
using V256 = System.Runtime.Intrinsics.Vector256<float>;
using V512 = System.Runtime.Intrinsics.Vector512<float>;

namespace Amalgam.Kernels.Merge;

// Element-wise formulas of the TIES tile kernels (see Ties.cs), each written once per width with
// the same IEEE operations. "Agrees" is v * g > 0 for an elected sign g in {-1, +1}: true exactly
// when v is non-zero with sign g (v * +-1 is exact, so no underflow).

/// <summary>d' = |a| &gt;= w ? a : 0 (trim below threshold w).</summary>
internal readonly struct TrimOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => MathF.Abs(a) >= w ? a : 0f;
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) => a & Vector128.GreaterThanOrEqual(Vector128.Abs(a), w);
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) => a & Vector256.GreaterThanOrEqual(Vector256.Abs(a), w);
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) => a & Vector512.GreaterThanOrEqual(Vector512.Abs(a), w);
}

/// <summary>d' = |a - b| &gt;= w ? a - b : 0 (task vector, then trim).</summary>
internal readonly struct SubtractTrimOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) { float t = a - b; return MathF.Abs(t) >= w ? t : 0f; }
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) { var t = a - b; return t & Vector128.GreaterThanOrEqual(Vector128.Abs(t), w); }
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) { var t = a - b; return t & Vector256.GreaterThanOrEqual(Vector256.Abs(t), w); }
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) { var t = a - b; return t & Vector512.GreaterThanOrEqual(Vector512.Abs(t), w); }
}

/// <summary>d' = sign(a) in {-1, 0, +1} (0 for +-0 and NaN).</summary>
internal readonly struct SignOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a > 0f ? 1f : a < 0f ? -1f : 0f;
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) =>
        (Vector128.Create(1f) & Vector128.GreaterThan(a, V128.Zero)) | (Vector128.Create(-1f) & Vector128.LessThan(a, V128.Zero));
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) =>
        (Vector256.Create(1f) & Vector256.GreaterThan(a, V256.Zero)) | (Vector256.Create(-1f) & Vector256.LessThan(a, V256.Zero));
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) =>
        (Vector512.Create(1f) & Vector512.GreaterThan(a, V512.Zero)) | (Vector512.Create(-1f) & Vector512.LessThan(a, V512.Zero));
}

/// <summary>d' = a == 0 ? w : a (elected sign with ties resolved to w).</summary>
internal readonly struct ResolveZeroOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a == 0f ? w : a;
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) => Vector128.ConditionalSelect(Vector128.Equals(a, V128.Zero), w, a);
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) => Vector256.ConditionalSelect(Vector256.Equals(a, V256.Zero), w, a);
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) => Vector512.ConditionalSelect(Vector512.Equals(a, V512.Zero), w, a);
}

/// <summary>d' = d + (agrees(w a, b) ? w a : 0), b = elected sign.</summary>
internal readonly struct AgreeingSumOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) { float v = w * a; return d + (v * b > 0f ? v : 0f); }
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) { var v = w * a; return d + (v & Vector128.GreaterThan(v * b, V128.Zero)); }
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) { var v = w * a; return d + (v & Vector256.GreaterThan(v * b, V256.Zero)); }
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) { var v = w * a; return d + (v & Vector512.GreaterThan(v * b, V512.Zero)); }
}

/// <summary>d' = d + (agrees(w a, b) ? w : 0): the weight (or count, w = 1) of agreeing entries.</summary>
internal readonly struct AgreeingWeightOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => d + ((w * a) * b > 0f ? w : 0f);
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) => d + (w & Vector128.GreaterThan(w * a * b, V128.Zero));
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) => d + (w & Vector256.GreaterThan(w * a * b, V256.Zero));
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) => d + (w & Vector512.GreaterThan(w * a * b, V512.Zero));
}

/// <summary>d' = agrees(w a, b) and |w a| &gt; d ? |w a| : d (largest agreeing magnitude).</summary>
internal readonly struct AgreeingMaxOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w)
    {
        float v = w * a, m = MathF.Abs(v);
        return v * b > 0f && m > d ? m : d;
    }
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w)
    {
        var v = w * a; var m = Vector128.Abs(v);
        return Vector128.ConditionalSelect(Vector128.GreaterThan(v * b, V128.Zero) & Vector128.GreaterThan(m, d), m, d);
    }
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w)
    {
        var v = w * a; var m = Vector256.Abs(v);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(v * b, V256.Zero) & Vector256.GreaterThan(m, d), m, d);
    }
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w)
    {
        var v = w * a; var m = Vector512.Abs(v);
        return Vector512.ConditionalSelect(Vector512.GreaterThan(v * b, V512.Zero) & Vector512.GreaterThan(m, d), m, d);
    }
}

/// <summary>d' = a / (b == 0 ? 1 : b) (sum over agreeing weight, divisor 0 treated as 1).</summary>
internal readonly struct DivideOrKeepOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a / (b == 0f ? 1f : b);
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) => a / Vector128.ConditionalSelect(Vector128.Equals(b, V128.Zero), Vector128.Create(1f), b);
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) => a / Vector256.ConditionalSelect(Vector256.Equals(b, V256.Zero), Vector256.Create(1f), b);
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) => a / Vector512.ConditionalSelect(Vector512.Equals(b, V512.Zero), Vector512.Create(1f), b);
}

/// <summary>d' = a * b.</summary>
internal readonly struct MultiplyOp : IElementwiseOp
{
    public static float Apply(float d, float a, float b, float w) => a * b;
    public static V128 Apply(V128 d, V128 a, V128 b, V128 w) => a * b;
    public static V256 Apply(V256 d, V256 a, V256 b, V256 w) => a * b;
    public static V512 Apply(V512 d, V512 a, V512 b, V512 w) => a * b;
}
