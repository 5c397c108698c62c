using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Amalgam.Kernels.Merge;

/// <summary>
/// Fisher merging (Matena and Raffel, NeurIPS 2022), the combination step: per element
/// theta = sum_k F'_k theta_k / sum_k F'_k with F'_k = max(F_k, floor), the diagonal Fisher of task
/// k floored so every denominator is positive. Evaluated in float64 (f32 inputs widened exactly),
/// k in order 0..K-1, one division, rounded once to f32; the vector and scalar paths do the same
/// IEEE operations (no fused multiply-add), so results do not depend on tile boundaries or threads.
/// NaN in F propagates (max(NaN, floor) is NaN here), so a bad Fisher fails the executor's finite check.
/// </summary>
public static class FisherMerge
{
    /// <summary>output[i] = sum_k max(F_k[i], floor) thetas[k][i] / sum_k max(F_k[i], floor).</summary>
    public static void Merge(TileSet thetas, TileSet fishers, float floor, Span<float> output)
    {
        int k = thetas.Count;
        if (fishers.Count != k) throw new ArgumentException($"{fishers.Count} Fisher tiles for {k} task tiles.", nameof(fishers));
        if (k == 0) throw new ArgumentException("Fisher merging needs at least one task.", nameof(thetas));
        if (thetas.Length != output.Length || fishers.Length != output.Length)
            throw new ArgumentException("Task tiles, Fisher tiles and output must have the same length.", nameof(output));
        if (!(floor > 0)) throw new ArgumentOutOfRangeException(nameof(floor), floor, "the Fisher floor must be positive");

        // Small blocks keep the two f64 running sums in L1 while the 2K input tiles stream past.
        const int Block = 512;
        Span<double> num = stackalloc double[Block];
        Span<double> den = stackalloc double[Block];
        for (int start = 0; start < output.Length; start += Block)
        {
            int len = Math.Min(Block, output.Length - start);
            var n = num[..len];
            var d = den[..len];
            n.Clear();
            d.Clear();
            for (int t = 0; t < k; t++)
                Accumulate(thetas[t].Slice(start, len), fishers[t].Slice(start, len), floor, n, d);
            Divide(n, d, output.Slice(start, len));
        }
    }

    /// <summary>num += max(f, floor) * theta; den += max(f, floor), in float64.</summary>
    private static void Accumulate(ReadOnlySpan<float> theta, ReadOnlySpan<float> f, float floor, Span<double> num, Span<double> den)
    {
        int len = num.Length;
        ref float rt = ref MemoryMarshal.GetReference(theta);
        ref float rf = ref MemoryMarshal.GetReference(f);
        ref double rn = ref MemoryMarshal.GetReference(num);
        ref double rd = ref MemoryMarshal.GetReference(den);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vfloor = Vector256.Create((double)floor);
            for (; i <= len - 4; i += 4)
            {
                var th = Vector256.WidenLower(Vector128.LoadUnsafe(ref rt, (nuint)i).ToVector256Unsafe());
                var fi = Vector256.WidenLower(Vector128.LoadUnsafe(ref rf, (nuint)i).ToVector256Unsafe());
                var w = MaxPropagateNaN(fi, vfloor);
                (Vector256.LoadUnsafe(ref rn, (nuint)i) + w * th).StoreUnsafe(ref rn, (nuint)i);
                (Vector256.LoadUnsafe(ref rd, (nuint)i) + w).StoreUnsafe(ref rd, (nuint)i);
            }
        }
        for (; i < len; i++)
        {
            double fi = Unsafe.Add(ref rf, i);
            double w = double.IsNaN(fi) ? fi : Math.Max(fi, floor);
            Unsafe.Add(ref rn, i) += w * Unsafe.Add(ref rt, i);
            Unsafe.Add(ref rd, i) += w;
        }
    }

    /// <summary>max(a, b) that returns NaN when a is NaN (b is the finite floor).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> MaxPropagateNaN(Vector256<double> a, Vector256<double> b)
    {
        var nan = ~Vector256.Equals(a, a);
        return Vector256.ConditionalSelect(nan, a, Vector256.ConditionalSelect(Vector256.GreaterThan(a, b), a, b));
    }

    private static void Divide(ReadOnlySpan<double> num, ReadOnlySpan<double> den, Span<float> output)
    {
        for (int i = 0; i < output.Length; i++) output[i] = (float)(num[i] / den[i]);
    }
}
