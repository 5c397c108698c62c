using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.AdaMerging;

/// <summary>
/// The gradient side of an AdaMerging step on one slice: the loss's gradient G in theta summed over
/// a step's runs (<see cref="AddInPlace"/>), then dL/dc_k = &lt;G, tau_k&gt; by the chain rule through
/// theta = theta0 + sum_k c_k tau_k, each dot product in float64 (<see cref="Dots"/>).
/// </summary>
public static unsafe class GradientSums
{
    /// <summary>sum[i] = sum[i] + g[i] (f32, elementwise: the same bits on every path).</summary>
    public static void AddInPlace(float* sum, float* g, int n) => AddInPlace(sum, g, n, VectorWidths.All);

    /// <summary><see cref="AddInPlace(float*, float*, int)"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static void AddInPlace(float* sum, float* g, int n, VectorWidths widths)
    {
        int i = 0;
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = AddInPlace<Vector512<float>, FloatLanes512>(sum, g, i, n);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = AddInPlace<Vector256<float>, FloatLanes256>(sum, g, i, n);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = AddInPlace<Vector128<float>, FloatLanes128>(sum, g, i, n);
        for (; i < n; i++) sum[i] += g[i];
    }

    private static int AddInPlace<TV, TL>(float* sum, float* g, int i, int n) where TV : unmanaged where TL : IFloatLanes<TV>
    {
        for (; i <= n - TL.Count; i += TL.Count) TL.Store(TL.Add(TL.Load(sum + i), TL.Load(g + i)), sum + i);
        return i;
    }

    /// <summary>
    /// dots[t] = sum_i g[i] * tau_t[i] in float64 for all K tasks: four tasks per pass over g (g stays
    /// in L2; eight accumulators stay in registers), then one at a time. Every dot product is the same
    /// operations in the same order whichever group it falls in: lanes lo/hi of 4 doubles each,
    /// folded as ((l0 + l1) + (l2 + l3)) of lo + hi, then the scalar tail in order. The dot products stay at
    /// 256 bits (4 doubles) on purpose: another width would change the accumulators and the fold, hence the bits.
    /// </summary>
    public static void Dots(float* g, float* taus, long stride, int k, int n, Span<double> dots)
    {
        int t = 0;
        for (; t + 4 <= k; t += 4)
            Dots4(g, taus + t * stride, taus + (t + 1) * stride, taus + (t + 2) * stride, taus + (t + 3) * stride, n, dots.Slice(t, 4));
        for (; t < k; t++) dots[t] = Dot(g, taus + t * stride, n);
    }

    private static void Dots4(float* g, float* p0, float* p1, float* p2, float* p3, int n, Span<double> dots)
    {
        int i = 0;
        double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
            for (; i <= n - 8; i += 8)
            {
                var (glo, ghi) = Vector256.Widen(Vector256.Load(g + i));
                var (lo0, hi0) = Vector256.Widen(Vector256.Load(p0 + i));
                a0 += glo * lo0; b0 += ghi * hi0;
                var (lo1, hi1) = Vector256.Widen(Vector256.Load(p1 + i));
                a1 += glo * lo1; b1 += ghi * hi1;
                var (lo2, hi2) = Vector256.Widen(Vector256.Load(p2 + i));
                a2 += glo * lo2; b2 += ghi * hi2;
                var (lo3, hi3) = Vector256.Widen(Vector256.Load(p3 + i));
                a3 += glo * lo3; b3 += ghi * hi3;
            }
            d0 = Fold(a0 + b0); d1 = Fold(a1 + b1); d2 = Fold(a2 + b2); d3 = Fold(a3 + b3);
        }
        for (; i < n; i++)
        {
            double gi = g[i];
            d0 += gi * p0[i]; d1 += gi * p1[i]; d2 += gi * p2[i]; d3 += gi * p3[i];
        }
        dots[0] = d0; dots[1] = d1; dots[2] = d2; dots[3] = d3;
    }

    /// <summary>One dot product with the same operations and order as each task of <see cref="Dots4"/>.</summary>
    public static double Dot(float* g, float* p, int n)
    {
        int i = 0;
        double d = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<double> a = default, b = default;
            for (; i <= n - 8; i += 8)
            {
                var (glo, ghi) = Vector256.Widen(Vector256.Load(g + i));
                var (lo, hi) = Vector256.Widen(Vector256.Load(p + i));
                a += glo * lo; b += ghi * hi;
            }
            d = Fold(a + b);
        }
        for (; i < n; i++) d += (double)g[i] * p[i];
        return d;
    }

    private static double Fold(Vector256<double> v) => (v.GetElement(0) + v.GetElement(1)) + (v.GetElement(2) + v.GetElement(3));
}
