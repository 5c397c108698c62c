using System.Numerics;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// Fused cores of <see cref="Ties"/>: for each vector of elements, all K tasks are combined in
/// registers (one output store instead of a pass per task). Each loop body is written once, generic over
/// the vector width (<see cref="IFloatLanes{TV}"/>), and run at 512, 256 then 128 bits where the
/// hardware accelerates them, before the scalar tail. Every width and the scalar tail apply the same IEEE
/// operations in the same order:
///   elect:  s = w0 t0; s = s + wk tk (k = 1..K-1); gamma = sign(s)
///   merge:  g = gamma == 0 ? zeroSign : gamma; v = wk tk; agrees = v * g &gt; 0 (v non-zero with sign g);
///           Sum: acc = acc + (agrees ? v : 0); Mean: also den = den + (agrees ? wk : 0), out = acc / (den == 0 ? 1 : den);
///           Max: m = agrees and |v| &gt; m ? |v| : m, out = m * g.
/// The overloads taking <see cref="VectorWidths"/> let tests run one width (or none) over a whole input.
/// </summary>
internal static unsafe class TiesKernels
{
    public static long Elect(float** p, float* w, int taskCount, float* gamma, int n) => Elect(p, w, taskCount, gamma, n, VectorWidths.All);

    internal static long Elect(float** p, float* w, int taskCount, float* gamma, int n, VectorWidths widths)
    {
        long signSum = 0;
        int i = 0;
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Elect<Vector512<float>, FloatLanes512>(p, w, taskCount, gamma, i, n, ref signSum);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Elect<Vector256<float>, FloatLanes256>(p, w, taskCount, gamma, i, n, ref signSum);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Elect<Vector128<float>, FloatLanes128>(p, w, taskCount, gamma, i, n, ref signSum);
        for (; i < n; i++)
        {
            float s = w[0] * p[0][i];
            for (int k = 1; k < taskCount; k++) s += w[k] * p[k][i];
            float g = s > 0f ? 1f : s < 0f ? -1f : 0f;
            gamma[i] = g;
            signSum += (long)g;
        }
        return signSum;
    }

    /// <summary>The vector loop of <see cref="Elect(float**, float*, int, float*, int)"/> from element <paramref name="i"/>; returns where it stopped.</summary>
    private static int Elect<TV, TL>(float** p, float* w, int taskCount, float* gamma, int i, int n, ref long signSum) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        long sum = 0;
        var zero = TL.Zero;
        var minusOne = TL.Create(-1f);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var s = TL.Multiply(TL.Create(w[0]), TL.Load(p[0] + i));
            for (int k = 1; k < taskCount; k++) s = TL.Add(s, TL.Multiply(TL.Create(w[k]), TL.Load(p[k] + i)));
            TV pos = TL.GreaterThan(s, zero), neg = TL.LessThan(s, zero);
            TL.Store(TL.Or(TL.And(TL.One, pos), TL.And(minusOne, neg)), gamma + i);
            sum += BitOperations.PopCount(TL.ExtractMostSignificantBits(pos)) - BitOperations.PopCount(TL.ExtractMostSignificantBits(neg));
        }
        signSum += sum;
        return i;
    }

    public static void Merge(float** p, float* w, int taskCount, float* gamma, float zeroSign, TiesMergeMode mode, float* output, int n) =>
        Merge(p, w, taskCount, gamma, zeroSign, mode, output, n, VectorWidths.All);

    internal static void Merge(float** p, float* w, int taskCount, float* gamma, float zeroSign, TiesMergeMode mode, float* output, int n, VectorWidths widths)
    {
        bool max = mode == TiesMergeMode.Max, mean = mode == TiesMergeMode.Mean;
        int i = 0;
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Merge<Vector512<float>, FloatLanes512>(p, w, taskCount, gamma, zeroSign, max, mean, output, i, n);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Merge<Vector256<float>, FloatLanes256>(p, w, taskCount, gamma, zeroSign, max, mean, output, i, n);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Merge<Vector128<float>, FloatLanes128>(p, w, taskCount, gamma, zeroSign, max, mean, output, i, n);
        for (; i < n; i++)
        {
            float g = gamma[i] == 0f ? zeroSign : gamma[i];
            float acc = 0f, aux = 0f;
            for (int k = 0; k < taskCount; k++)
            {
                float v = w[k] * p[k][i];
                bool agrees = v * g > 0f;
                if (max)
                {
                    float m = MathF.Abs(v);
                    if (agrees && m > aux) aux = m;
                }
                else
                {
                    acc += agrees ? v : 0f;
                    if (mean) aux += agrees ? w[k] : 0f;
                }
            }
            output[i] = max ? aux * g : mean ? acc / (aux == 0f ? 1f : aux) : acc;
        }
    }

    /// <summary>The vector loop of <see cref="Merge(float**, float*, int, float*, float, TiesMergeMode, float*, int)"/> from element <paramref name="i"/>.</summary>
    private static int Merge<TV, TL>(float** p, float* w, int taskCount, float* gamma, float zeroSign, bool max, bool mean, float* output, int i, int n)
        where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        var zs = TL.Create(zeroSign);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var g0 = TL.Load(gamma + i);
            var g = TL.ConditionalSelect(TL.Equals(g0, zero), zs, g0);
            TL.Store(MergeVector<TV, TL>(p, w, taskCount, g, max, mean, i), output + i);
        }
        return i;
    }

    /// <summary>
    /// Elect, disjoint merge and theta0 + lambda * merged fused per vector (the merge pass with a known
    /// zero sign): the same operations as <see cref="Elect(float**, float*, int, float*, int)"/>, then
    /// <see cref="Merge(float**, float*, int, float*, float, TiesMergeMode, float*, int)"/>, then AddScaled,
    /// so the bits equal the three-pass sequence, but the K tiles are read while in L1 and gamma never goes
    /// to memory.
    /// </summary>
    public static void ElectMergeAddScaled(float** p, float* w, int taskCount, float zeroSign, TiesMergeMode mode, float* theta0, float lambda, float* output, int n) =>
        ElectMergeAddScaled(p, w, taskCount, zeroSign, mode, theta0, lambda, output, n, VectorWidths.All);

    internal static void ElectMergeAddScaled(float** p, float* w, int taskCount, float zeroSign, TiesMergeMode mode, float* theta0, float lambda, float* output, int n,
        VectorWidths widths)
    {
        bool max = mode == TiesMergeMode.Max, mean = mode == TiesMergeMode.Mean;
        int i = 0;
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated)
            i = ElectMergeAddScaled<Vector512<float>, FloatLanes512>(p, w, taskCount, zeroSign, max, mean, theta0, lambda, output, i, n);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated)
            i = ElectMergeAddScaled<Vector256<float>, FloatLanes256>(p, w, taskCount, zeroSign, max, mean, theta0, lambda, output, i, n);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated)
            i = ElectMergeAddScaled<Vector128<float>, FloatLanes128>(p, w, taskCount, zeroSign, max, mean, theta0, lambda, output, i, n);
        for (; i < n; i++)
        {
            float s = w[0] * p[0][i];
            for (int k = 1; k < taskCount; k++) s += w[k] * p[k][i];
            float g = s > 0f ? 1f : s < 0f ? -1f : zeroSign;
            float acc = 0f, aux = 0f;
            for (int k = 0; k < taskCount; k++)
            {
                float v = w[k] * p[k][i];
                bool agrees = v * g > 0f;
                if (max)
                {
                    float m = MathF.Abs(v);
                    if (agrees && m > aux) aux = m;
                }
                else
                {
                    acc += agrees ? v : 0f;
                    if (mean) aux += agrees ? w[k] : 0f;
                }
            }
            float result = max ? aux * g : mean ? acc / (aux == 0f ? 1f : aux) : acc;
            output[i] = theta0[i] + lambda * result;
        }
    }

    /// <summary>The vector loop of <see cref="ElectMergeAddScaled(float**, float*, int, float, TiesMergeMode, float*, float, float*, int)"/> from element <paramref name="i"/>.</summary>
    private static int ElectMergeAddScaled<TV, TL>(float** p, float* w, int taskCount, float zeroSign, bool max, bool mean, float* theta0, float lambda, float* output,
        int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        var zs = TL.Create(zeroSign);
        var vl = TL.Create(lambda);
        var minusOne = TL.Create(-1f);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var s = TL.Multiply(TL.Create(w[0]), TL.Load(p[0] + i));
            for (int k = 1; k < taskCount; k++) s = TL.Add(s, TL.Multiply(TL.Create(w[k]), TL.Load(p[k] + i)));
            var g0 = TL.Or(TL.And(TL.One, TL.GreaterThan(s, zero)), TL.And(minusOne, TL.LessThan(s, zero)));
            var g = TL.ConditionalSelect(TL.Equals(g0, zero), zs, g0);
            TL.Store(TL.Add(TL.Load(theta0 + i), TL.Multiply(vl, MergeVector<TV, TL>(p, w, taskCount, g, max, mean, i))), output + i);
        }
        return i;
    }

    /// <summary>The disjoint merge of the vector at element <paramref name="i"/> under the elected sign <paramref name="g"/> (+-1 per lane).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static TV MergeVector<TV, TL>(float** p, float* w, int taskCount, TV g, bool max, bool mean, int i) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        var zero = TL.Zero;
        TV acc = zero, aux = zero;
        for (int k = 0; k < taskCount; k++)
        {
            var wk = TL.Create(w[k]);
            var v = TL.Multiply(wk, TL.Load(p[k] + i));
            var agrees = TL.GreaterThan(TL.Multiply(v, g), zero);
            if (max)
            {
                var m = TL.Abs(v);
                aux = TL.ConditionalSelect(TL.And(agrees, TL.GreaterThan(m, aux)), m, aux);
            }
            else
            {
                acc = TL.Add(acc, TL.And(v, agrees));
                if (mean) aux = TL.Add(aux, TL.And(wk, agrees));
            }
        }
        return max ? TL.Multiply(aux, g) : mean ? TL.Divide(acc, TL.ConditionalSelect(TL.Equals(aux, zero), TL.One, aux)) : acc;
    }
}
