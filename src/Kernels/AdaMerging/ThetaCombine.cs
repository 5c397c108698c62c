using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.AdaMerging;

/// <summary>
/// AdaMerging's merge of one slice (Yang et al., ICLR 2024, eq. 5/6 with the coefficients of one
/// layer): theta = theta0 + sum_k c_k tau_k, written where ONNX Runtime reads theta. In f32:
///   coefficients not all equal: acc = +0; acc = acc + c_k tau_k (k = 0..K-1); theta0 + acc
///   all equal to c:             acc = +0; acc = acc + tau_k (k = 0..K-1);     theta0 + c * acc
/// The second form is TIES' merge=sum finish (theta0 + lambda * sum of agreeing parts) to the bit, so
/// AdaMerging++ before any step equals `ties` with lambda = init. Every vector width and the scalar
/// tail do the same operations in the same order (no FMA), so results do not depend on the path.
/// </summary>
public static unsafe class ThetaCombine
{
    /// <summary>One slice: <paramref name="taus"/> + t * <paramref name="stride"/> is task t's vector.</summary>
    public static void Combine(float* theta0, float* taus, long stride, int k, float* c, float* output, int n)
    {
        bool equal = true;
        for (int t = 1; t < k; t++) equal &= c[t] == c[0];
        if (equal && k > 0) CombineEqual(theta0, taus, stride, k, c[0], output, n);
        else CombineWeighted(theta0, taus, stride, k, c, output, n);
    }

    private static void CombineWeighted(float* theta0, float* taus, long stride, int k, float* c, float* output, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= n - 16; i += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int t = 0; t < k; t++) acc += Vector512.Create(c[t]) * Vector512.Load(taus + t * stride + i);
                (Vector512.Load(theta0 + i) + acc).Store(output + i);
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i <= n - 8; i += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int t = 0; t < k; t++) acc += Vector256.Create(c[t]) * Vector256.Load(taus + t * stride + i);
                (Vector256.Load(theta0 + i) + acc).Store(output + i);
            }
        for (; i < n; i++)
        {
            float acc = 0f;
            for (int t = 0; t < k; t++) acc += c[t] * taus[t * stride + i];
            output[i] = theta0[i] + acc;
        }
    }

    private static void CombineEqual(float* theta0, float* taus, long stride, int k, float c, float* output, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vc = Vector512.Create(c);
            for (; i <= n - 16; i += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int t = 0; t < k; t++) acc += Vector512.Load(taus + t * stride + i);
                (Vector512.Load(theta0 + i) + vc * acc).Store(output + i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vc = Vector256.Create(c);
            for (; i <= n - 8; i += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int t = 0; t < k; t++) acc += Vector256.Load(taus + t * stride + i);
                (Vector256.Load(theta0 + i) + vc * acc).Store(output + i);
            }
        }
        for (; i < n; i++)
        {
            float acc = 0f;
            for (int t = 0; t < k; t++) acc += taus[t * stride + i];
            output[i] = theta0[i] + c * acc;
        }
    }
}
