using Amalgam.Kernels.Merge;
using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// TIES' merge once the zero sign is known, fused per element as <see cref="Ties.ElectMergeAddScaled"/>
/// (the same f32 operations in the same order, so the bits are equal):
///   elect:  s = w_0 t_0; s = s + w_k t_k (k = 1..K-1); g = s &gt; 0 ? 1 : s &lt; 0 ? -1 : zeroSign
///   merge:  v = w_k t_k; agrees = v * g &gt; 0;
///           Sum: acc = acc + (agrees ? v : 0); Mean: also den = den + (agrees ? w_k : 0), r = acc / (den == 0 ? 1 : den);
///           Max: m = agrees and |v| &gt; m ? |v| : m, r = m * g
///   finish: theta = theta0 + lambda * r                       (K = 0: r = +0)
/// Trimmed task vectors in one stacked [K, n] buffer; grid-stride over the elements.
/// </summary>
public static class TiesMerge
{
    /// <summary>Queues output = theta0 + lambda * disjoint merge of <paramref name="trimmed"/>.</summary>
    public static void Run(DeviceContext device, ArrayView<float> trimmed, ArrayView<float> weights, float zeroSign, TiesMergeMode mode,
        ArrayView<float> theta0, float lambda, ArrayView<float> output)
    {
        long n = output.Length;
        if (theta0.Length != n || trimmed.Length != weights.Length * n)
            throw new ArgumentException($"theta0 ({theta0.Length}), the {weights.Length} stacked tasks ({trimmed.Length}) and output ({n}) do not match");
        if (zeroSign is not (1f or -1f)) throw new ArgumentOutOfRangeException(nameof(zeroSign), zeroSign, "zeroSign must be +1 or -1.");
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown TIES merge mode.");
        if (n == 0) return;
        var kernel = device.Kernel(nameof(TiesMerge), Load<HostIeee>, Load<PtxIeee>);
        int width = device.Width(n);
        kernel(width, width, trimmed, weights, zeroSign, (int)mode, theta0, lambda, output);
    }

    private static Action<Index1D, int, ArrayView<float>, ArrayView<float>, float, int, ArrayView<float>, float, ArrayView<float>> Load<T>(
        Accelerator a) where T : struct, IIeee => a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, float, int,
        ArrayView<float>, float, ArrayView<float>>(Kernel<T>);

    internal static void Kernel<T>(Index1D thread, int width, ArrayView<float> p, ArrayView<float> w, float zeroSign, int mode,
        ArrayView<float> theta0, float lambda, ArrayView<float> output) where T : struct, IIeee
    {
        var f = default(T);
        long n = output.Length;
        int k = (int)w.Length;
        bool max = mode == (int)TiesMergeMode.Max, mean = mode == (int)TiesMergeMode.Mean;
        for (long i = thread; i < n; i += width)
        {
            float result = 0f;
            if (k > 0)
            {
                float s = f.Mul(w[0], p[i]);
                for (int t = 1; t < k; t++) s = f.Add(s, f.Mul(w[t], p[t * n + i]));
                float g = s > 0f ? 1f : s < 0f ? -1f : zeroSign;
                float acc = 0f, aux = 0f;
                for (int t = 0; t < k; t++)
                {
                    float v = f.Mul(w[t], p[t * n + i]);
                    bool agrees = f.Mul(v, g) > 0f;
                    if (max)
                    {
                        float m = Ieee.Abs(v);
                        if (agrees && m > aux) aux = m;
                    }
                    else
                    {
                        acc = f.Add(acc, agrees ? v : 0f);
                        if (mean) aux = f.Add(aux, agrees ? w[t] : 0f);
                    }
                }
                result = max ? f.Mul(aux, g) : mean ? acc / (aux == 0f ? 1f : aux) : acc;
            }
            output[i] = f.Add(theta0[i], f.Mul(lambda, result));
        }
    }
}
