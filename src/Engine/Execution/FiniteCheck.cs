using System.Numerics;
using Amalgam.Kernels;

namespace Amalgam.Engine.Execution;

/// <summary>Finds NaN or infinity in an f32 tensor (in parallel, deterministic: first bad index).</summary>
internal static class FiniteCheck
{
    /// <summary>Index of the first non-finite element, or -1.</summary>
    public static long FirstNonFinite(Tensor t)
    {
        var plan = ChunkPlan.For<float>(t.ElementCount);
        return ParallelChunks.Reduce(plan, c => FirstNonFinite(t.Read<float>(c.Start, (int)c.Length), c.Start),
            (a, b) => a >= 0 ? a : b, -1L);
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
}
