using System.Numerics;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// Fused cores of <see cref="TiesMethod"/>: for each vector of elements, all K tasks are combined in
/// registers (one output store instead of a pass per task). Every width and the scalar tail apply
/// the same IEEE operations in the same order:
///   elect:  s = w0 t0; s = s + wk tk (k = 1..K-1); gamma = sign(s)
///   merge:  g = gamma == 0 ? zeroSign : gamma; v = wk tk; agrees = v * g &gt; 0 (v non-zero with sign g);
///           Sum: acc = acc + (agrees ? v : 0); Mean: also den = den + (agrees ? wk : 0), out = acc / (den == 0 ? 1 : den);
///           Max: m = agrees and |v| &gt; m ? |v| : m, out = m * g.
/// </summary>
internal static unsafe class TiesKernels
{
    public static long Elect(float** p, float* w, int taskCount, float* gamma, int n)
    {
        long signSum = 0;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var s = Vector512.Create(w[0]) * Vector512.Load(p[0] + i);
                for (int k = 1; k < taskCount; k++) s += Vector512.Create(w[k]) * Vector512.Load(p[k] + i);
                Vector512<float> pos = Vector512.GreaterThan(s, Vector512<float>.Zero), neg = Vector512.LessThan(s, Vector512<float>.Zero);
                ((Vector512<float>.One & pos) | (Vector512.Create(-1f) & neg)).Store(gamma + i);
                signSum += BitOperations.PopCount(pos.ExtractMostSignificantBits()) - BitOperations.PopCount(neg.ExtractMostSignificantBits());
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var s = Vector256.Create(w[0]) * Vector256.Load(p[0] + i);
                for (int k = 1; k < taskCount; k++) s += Vector256.Create(w[k]) * Vector256.Load(p[k] + i);
                Vector256<float> pos = Vector256.GreaterThan(s, Vector256<float>.Zero), neg = Vector256.LessThan(s, Vector256<float>.Zero);
                ((Vector256<float>.One & pos) | (Vector256.Create(-1f) & neg)).Store(gamma + i);
                signSum += BitOperations.PopCount(pos.ExtractMostSignificantBits()) - BitOperations.PopCount(neg.ExtractMostSignificantBits());
            }
        if (Vector128.IsHardwareAccelerated)
            for (; i <= n - 4; i += 4)
            {
                var s = Vector128.Create(w[0]) * Vector128.Load(p[0] + i);
                for (int k = 1; k < taskCount; k++) s += Vector128.Create(w[k]) * Vector128.Load(p[k] + i);
                Vector128<float> pos = Vector128.GreaterThan(s, Vector128<float>.Zero), neg = Vector128.LessThan(s, Vector128<float>.Zero);
                ((Vector128<float>.One & pos) | (Vector128.Create(-1f) & neg)).Store(gamma + i);
                signSum += BitOperations.PopCount(pos.ExtractMostSignificantBits()) - BitOperations.PopCount(neg.ExtractMostSignificantBits());
            }
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

    public static void Merge(float** p, float* w, int taskCount, float* gamma, float zeroSign, TiesMergeMode mode, float* output, int n)
    {
        bool max = mode == TiesMergeMode.Max, mean = mode == TiesMergeMode.Mean;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var zero = Vector512<float>.Zero;
            var zs = Vector512.Create(zeroSign);
            for (; i <= n - 16; i += 16)
            {
                var g0 = Vector512.Load(gamma + i);
                var g = Vector512.ConditionalSelect(Vector512.Equals(g0, zero), zs, g0);
                Vector512<float> acc = zero, aux = zero;
                for (int k = 0; k < taskCount; k++)
                {
                    var wk = Vector512.Create(w[k]);
                    var v = wk * Vector512.Load(p[k] + i);
                    var agrees = Vector512.GreaterThan(v * g, zero);
                    if (max)
                    {
                        var m = Vector512.Abs(v);
                        aux = Vector512.ConditionalSelect(agrees & Vector512.GreaterThan(m, aux), m, aux);
                    }
                    else
                    {
                        acc += v & agrees;
                        if (mean) aux += wk & agrees;
                    }
                }
                var result = max ? aux * g : mean ? acc / Vector512.ConditionalSelect(Vector512.Equals(aux, zero), Vector512<float>.One, aux) : acc;
                result.Store(output + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var zs = Vector256.Create(zeroSign);
            for (; i <= n - 8; i += 8)
            {
                var g0 = Vector256.Load(gamma + i);
                var g = Vector256.ConditionalSelect(Vector256.Equals(g0, zero), zs, g0);
                Vector256<float> acc = zero, aux = zero;
                for (int k = 0; k < taskCount; k++)
                {
                    var wk = Vector256.Create(w[k]);
                    var v = wk * Vector256.Load(p[k] + i);
                    var agrees = Vector256.GreaterThan(v * g, zero);
                    if (max)
                    {
                        var m = Vector256.Abs(v);
                        aux = Vector256.ConditionalSelect(agrees & Vector256.GreaterThan(m, aux), m, aux);
                    }
                    else
                    {
                        acc += v & agrees;
                        if (mean) aux += wk & agrees;
                    }
                }
                var result = max ? aux * g : mean ? acc / Vector256.ConditionalSelect(Vector256.Equals(aux, zero), Vector256<float>.One, aux) : acc;
                result.Store(output + i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var zero = Vector128<float>.Zero;
            var zs = Vector128.Create(zeroSign);
            for (; i <= n - 4; i += 4)
            {
                var g0 = Vector128.Load(gamma + i);
                var g = Vector128.ConditionalSelect(Vector128.Equals(g0, zero), zs, g0);
                Vector128<float> acc = zero, aux = zero;
                for (int k = 0; k < taskCount; k++)
                {
                    var wk = Vector128.Create(w[k]);
                    var v = wk * Vector128.Load(p[k] + i);
                    var agrees = Vector128.GreaterThan(v * g, zero);
                    if (max)
                    {
                        var m = Vector128.Abs(v);
                        aux = Vector128.ConditionalSelect(agrees & Vector128.GreaterThan(m, aux), m, aux);
                    }
                    else
                    {
                        acc += v & agrees;
                        if (mean) aux += wk & agrees;
                    }
                }
                var result = max ? aux * g : mean ? acc / Vector128.ConditionalSelect(Vector128.Equals(aux, zero), Vector128<float>.One, aux) : acc;
                result.Store(output + i);
            }
        }
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

    /// <summary>
    /// Elect, disjoint merge and theta0 + lambda * merged fused per vector (the merge pass with a known
    /// zero sign): the same operations as <see cref="Elect"/>, then <see cref="Merge"/>, then
    /// AddScaled, so the bits equal the three-pass sequence, but the K tiles are read while in L1 and
    /// gamma never goes to memory.
    /// </summary>
    public static void ElectMergeAddScaled(float** p, float* w, int taskCount, float zeroSign, TiesMergeMode mode, float* theta0, float lambda, float* output, int n)
    {
        bool max = mode == TiesMergeMode.Max, mean = mode == TiesMergeMode.Mean;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var zero = Vector512<float>.Zero;
            var zs = Vector512.Create(zeroSign);
            var vl = Vector512.Create(lambda);
            for (; i <= n - 16; i += 16)
            {
                var s = Vector512.Create(w[0]) * Vector512.Load(p[0] + i);
                for (int k = 1; k < taskCount; k++) s += Vector512.Create(w[k]) * Vector512.Load(p[k] + i);
                var g0 = (Vector512<float>.One & Vector512.GreaterThan(s, zero)) | (Vector512.Create(-1f) & Vector512.LessThan(s, zero));
                var g = Vector512.ConditionalSelect(Vector512.Equals(g0, zero), zs, g0);
                Vector512<float> acc = zero, aux = zero;
                for (int k = 0; k < taskCount; k++)
                {
                    var wk = Vector512.Create(w[k]);
                    var v = wk * Vector512.Load(p[k] + i);
                    var agrees = Vector512.GreaterThan(v * g, zero);
                    if (max)
                    {
                        var m = Vector512.Abs(v);
                        aux = Vector512.ConditionalSelect(agrees & Vector512.GreaterThan(m, aux), m, aux);
                    }
                    else
                    {
                        acc += v & agrees;
                        if (mean) aux += wk & agrees;
                    }
                }
                var result = max ? aux * g : mean ? acc / Vector512.ConditionalSelect(Vector512.Equals(aux, zero), Vector512<float>.One, aux) : acc;
                (Vector512.Load(theta0 + i) + vl * result).Store(output + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var zs = Vector256.Create(zeroSign);
            var vl = Vector256.Create(lambda);
            for (; i <= n - 8; i += 8)
            {
                var s = Vector256.Create(w[0]) * Vector256.Load(p[0] + i);
                for (int k = 1; k < taskCount; k++) s += Vector256.Create(w[k]) * Vector256.Load(p[k] + i);
                var g0 = (Vector256<float>.One & Vector256.GreaterThan(s, zero)) | (Vector256.Create(-1f) & Vector256.LessThan(s, zero));
                var g = Vector256.ConditionalSelect(Vector256.Equals(g0, zero), zs, g0);
                Vector256<float> acc = zero, aux = zero;
                for (int k = 0; k < taskCount; k++)
                {
                    var wk = Vector256.Create(w[k]);
                    var v = wk * Vector256.Load(p[k] + i);
                    var agrees = Vector256.GreaterThan(v * g, zero);
                    if (max)
                    {
                        var m = Vector256.Abs(v);
                        aux = Vector256.ConditionalSelect(agrees & Vector256.GreaterThan(m, aux), m, aux);
                    }
                    else
                    {
                        acc += v & agrees;
                        if (mean) aux += wk & agrees;
                    }
                }
                var result = max ? aux * g : mean ? acc / Vector256.ConditionalSelect(Vector256.Equals(aux, zero), Vector256<float>.One, aux) : acc;
                (Vector256.Load(theta0 + i) + vl * result).Store(output + i);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var zero = Vector128<float>.Zero;
            var zs = Vector128.Create(zeroSign);
            var vl = Vector128.Create(lambda);
            for (; i <= n - 4; i += 4)
            {
                var s = Vector128.Create(w[0]) * Vector128.Load(p[0] + i);
                for (int k = 1; k < taskCount; k++) s += Vector128.Create(w[k]) * Vector128.Load(p[k] + i);
                var g0 = (Vector128<float>.One & Vector128.GreaterThan(s, zero)) | (Vector128.Create(-1f) & Vector128.LessThan(s, zero));
                var g = Vector128.ConditionalSelect(Vector128.Equals(g0, zero), zs, g0);
                Vector128<float> acc = zero, aux = zero;
                for (int k = 0; k < taskCount; k++)
                {
                    var wk = Vector128.Create(w[k]);
                    var v = wk * Vector128.Load(p[k] + i);
                    var agrees = Vector128.GreaterThan(v * g, zero);
                    if (max)
                    {
                        var m = Vector128.Abs(v);
                        aux = Vector128.ConditionalSelect(agrees & Vector128.GreaterThan(m, aux), m, aux);
                    }
                    else
                    {
                        acc += v & agrees;
                        if (mean) aux += wk & agrees;
                    }
                }
                var result = max ? aux * g : mean ? acc / Vector128.ConditionalSelect(Vector128.Equals(aux, zero), Vector128<float>.One, aux) : acc;
                (Vector128.Load(theta0 + i) + vl * result).Store(output + i);
            }
        }
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
}
