using System.Runtime.Intrinsics;
using Amalgam.Kernels.Simd;

namespace Amalgam.Kernels.AdaMerging;

/// <summary>
/// AdaMerging's merge of one slice (Yang et al., ICLR 2024, eq. 5/6 with the coefficients of one
/// layer): theta = theta0 + sum_k c_k tau_k, written where ONNX Runtime reads theta. In f32:
///   coefficients not all equal: acc = +0; acc = acc + c_k tau_k (k = 0..K-1); theta0 + acc
///   all equal to c:             acc = +0; acc = acc + tau_k (k = 0..K-1);     theta0 + c * acc
/// The second form is TIES' merge=sum finish (theta0 + lambda * sum of agreeing parts) to the bit, so
/// AdaMerging++ before any step equals `ties` with lambda = init. Each vector loop is written once, generic over the
/// width (<see cref="IFloatLanes{TV}"/>), run at 512, 256 then 128 bits where accelerated; every width and the
/// scalar tail do the same operations in the same order (no FMA), so results do not depend on the path.
/// </summary>
public static unsafe class ThetaCombine
{
    /// <summary>One slice: <paramref name="taus"/> + t * <paramref name="stride"/> is task t's vector.</summary>
    public static void Combine(float* theta0, float* taus, long stride, int k, float* c, float* output, int n) =>
        Combine(theta0, taus, stride, k, c, output, n, VectorWidths.All);

    /// <summary><see cref="Combine(float*, float*, long, int, float*, float*, int)"/> with only the given vector widths before the scalar tail (tests).</summary>
    internal static void Combine(float* theta0, float* taus, long stride, int k, float* c, float* output, int n, VectorWidths widths)
    {
        bool equal = true;
        for (int t = 1; t < k; t++) equal &= c[t] == c[0];
        equal &= k > 0;
        int i = 0;
        if ((widths & VectorWidths.W512) != 0 && FloatLanes512.IsHardwareAccelerated) i = Combine<Vector512<float>, FloatLanes512>(theta0, taus, stride, k, c, equal, output, i, n);
        if ((widths & VectorWidths.W256) != 0 && FloatLanes256.IsHardwareAccelerated) i = Combine<Vector256<float>, FloatLanes256>(theta0, taus, stride, k, c, equal, output, i, n);
        if ((widths & VectorWidths.W128) != 0 && FloatLanes128.IsHardwareAccelerated) i = Combine<Vector128<float>, FloatLanes128>(theta0, taus, stride, k, c, equal, output, i, n);
        if (equal)
            for (; i < n; i++)
            {
                float acc = 0f;
                for (int t = 0; t < k; t++) acc += taus[t * stride + i];
                output[i] = theta0[i] + c[0] * acc;
            }
        else
            for (; i < n; i++)
            {
                float acc = 0f;
                for (int t = 0; t < k; t++) acc += c[t] * taus[t * stride + i];
                output[i] = theta0[i] + acc;
            }
    }

    /// <summary>The vector loop of <see cref="Combine(float*, float*, long, int, float*, float*, int)"/> from element <paramref name="i"/>; returns where it stopped.</summary>
    private static int Combine<TV, TL>(float* theta0, float* taus, long stride, int k, float* c, bool equal, float* output, int i, int n)
        where TV : unmanaged where TL : IFloatLanes<TV>
    {
        if (equal)
        {
            var vc = TL.Create(c[0]);
            for (; i <= n - TL.Count; i += TL.Count)
            {
                var acc = TL.Zero;
                for (int t = 0; t < k; t++) acc = TL.Add(acc, TL.Load(taus + t * stride + i));
                TL.Store(TL.Add(TL.Load(theta0 + i), TL.Multiply(vc, acc)), output + i);
            }
        }
        else
            for (; i <= n - TL.Count; i += TL.Count)
            {
                var acc = TL.Zero;
                for (int t = 0; t < k; t++) acc = TL.Add(acc, TL.Multiply(TL.Create(c[t]), TL.Load(taus + t * stride + i)));
                TL.Store(TL.Add(TL.Load(theta0 + i), acc), output + i);
            }
        return i;
    }
}
