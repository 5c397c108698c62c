using System.Runtime.Intrinsics;
using V128 = System.Runtime.Intrinsics.Vector128<float>;
using V256 = System.Runtime.Intrinsics.Vector256<float>;
using V512 = System.Runtime.Intrinsics.Vector512<float>;

namespace Amalgam.Kernels.Merge;

// Element-wise trim formulas of the TIES tile kernels (see Ties.cs), each written once per width
// with the same IEEE operations; electing and merging are fused in TiesKernels.cs.

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
