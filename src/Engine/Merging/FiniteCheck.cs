using System.Buffers;
using System.Numerics;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Finds NaN or infinity in a float tensor in its stored dtype (in parallel, deterministic: the
/// first bad index). f16/bf16 are checked on their bits (all-ones exponent), which is exactly
/// "non-finite after conversion to f32"; f64 is checked after rounding to f32, so a finite f64 that
/// overflows f32 counts as infinite, as it would in the merge.
/// </summary>
internal static class FiniteCheck
{
    /// <summary>Index of the first non-finite element, or -1.</summary>
    public static long FirstNonFinite(Tensor t)
    {
        var plan = ChunkPlan.For<float>(t.ElementCount);
        return ParallelChunks.Reduce(plan, c => FirstNonFinite(t, c), (a, b) => a >= 0 ? a : b, -1L);
    }

    private static long FirstNonFinite(Tensor t, Chunk c)
    {
        int n = (int)c.Length;
        switch (t.DType)
        {
            case DType.F32: return FirstNonFinite(t.Read<float>(c.Start, n), c.Start);
            case DType.F16: return FirstAllOnes(t.Read<ushort>(c.Start, n), 0x7C00, c.Start);
            case DType.BF16: return FirstAllOnes(t.Read<ushort>(c.Start, n), 0x7F80, c.Start);
            default:
                float[] scratch = ArrayPool<float>.Shared.Rent(n);
                try
                {
                    DTypeConvert.ToFloat32(t, scratch.AsSpan(0, n), c.Start);
                    return FirstNonFinite(scratch.AsSpan(0, n), c.Start);
                }
                finally
                {
                    ArrayPool<float>.Shared.Return(scratch);
                }
        }
    }

    private static long FirstNonFinite(ReadOnlySpan<float> x, long offset)
    {
        // x - x is 0 for finite x and NaN for NaN or +-Inf; NaN != 0 in every lane comparison.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<float>.Count;
            for (; i <= x.Length - w; i += w)
            {
                var v = new Vector<float>(x.Slice(i, w));
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero)) break;
            }
        }
        for (; i < x.Length; i++)
            if (!float.IsFinite(x[i])) return offset + i;
        return -1;
    }

    /// <summary>First 16-bit float whose exponent bits (<paramref name="exponent"/>) are all ones: NaN or +-Inf.</summary>
    private static long FirstAllOnes(ReadOnlySpan<ushort> x, ushort exponent, long offset)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<ushort>.Count;
            var mask = new Vector<ushort>(exponent);
            for (; i <= x.Length - w; i += w)
                if (Vector.EqualsAny(new Vector<ushort>(x.Slice(i, w)) & mask, mask)) break;
        }
        for (; i < x.Length; i++)
            if ((x[i] & exponent) == exponent) return offset + i;
        return -1;
    }
}
