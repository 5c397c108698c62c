using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Simd;
using NUnit.Framework;
using Amalgam.Kernels.Tests.Simd;

namespace Amalgam.Kernels.Tests.Merge;

/// <summary>
/// Each vector width of the TIES kernels (<see cref="TiesKernels"/>, <see cref="Bf16Merge.TiesMerge"/>), forced alone
/// over a whole input (then the scalar tail), must give exactly the bits of the scalar path
/// (<see cref="VectorWidths.None"/>), as must the production cascade (<see cref="VectorWidths.All"/>). A width the
/// machine does not accelerate is reported as ignored, not passed.
/// </summary>
public unsafe class TiesWidthTests
{
    /// <summary>The paths by name (VectorWidths is internal, so test cases carry its name): one width alone, or the cascade.</summary>
    private static readonly string[] Widths = [nameof(VectorWidths.W512), nameof(VectorWidths.W256), nameof(VectorWidths.W128), nameof(VectorWidths.All)];

    private static IEnumerable<TestCaseData> Cases() =>
        from width in Widths
        from n in new[] { 5, 64, 1000, 4099 }
        from k in new[] { 1, 3, 8 }
        from weighted in new[] { false, true }
        select new TestCaseData(width, n, k, weighted);

    private static float[] Weights(System.Random rng, int k, bool weighted) =>
        weighted ? Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 0.5)).ToArray() : Enumerable.Repeat(1f, k).ToArray();

    /// <summary>Runs <paramref name="body"/> with the tiles pinned, as float** and the weights as float*.</summary>
    private static void Pinned(float[][] tiles, float[] weights, Action<nint, nint> body)
    {
        var handles = tiles.Select(t => GCHandle.Alloc(t, GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
            fixed (nint* pp = pointers)
            fixed (float* wp = weights)
                body((nint)pp, (nint)wp);
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void TiesKernelsWidthBitIdenticalToScalar(string widthName, int n, int k, bool weighted)
    {
        var width = VectorWidthCases.RequireAccelerated(widthName);
        var rng = new System.Random(n * 13 + k * 5 + (weighted ? 1 : 0));
        var tiles = Enumerable.Range(0, k).Select(_ => VectorWidthCases.Tile(rng, n)).ToArray();
        var weights = Weights(rng, k, weighted);
        var theta0 = VectorWidthCases.Tile(rng, n);
        Pinned(tiles, weights, (pp, wp) =>
        {
            var p = (float**)pp;
            var w = (float*)wp;
            float[] gamma = new float[n], gammaRef = new float[n];
            long sum, sumRef;
            fixed (float* g = gamma, gr = gammaRef)
            {
                sum = TiesKernels.Elect(p, w, k, g, n, width);
                sumRef = TiesKernels.Elect(p, w, k, gr, n, VectorWidths.None);
            }
            Assert.That(VectorWidthCases.Bits(gamma), Is.EqualTo(VectorWidthCases.Bits(gammaRef)), "Elect");
            Assert.That(sum, Is.EqualTo(sumRef), "Elect sign sum");
            foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
                foreach (float zeroSign in new[] { 1f, -1f })
                {
                    float[] merged = new float[n], mergedRef = new float[n], fused = new float[n], fusedRef = new float[n];
                    fixed (float* g = gamma, m = merged, mr = mergedRef, f = fused, fr = fusedRef, t0 = theta0)
                    {
                        TiesKernels.Merge(p, w, k, g, zeroSign, mode, m, n, width);
                        TiesKernels.Merge(p, w, k, g, zeroSign, mode, mr, n, VectorWidths.None);
                        TiesKernels.ElectMergeAddScaled(p, w, k, zeroSign, mode, t0, 0.3f, f, n, width);
                        TiesKernels.ElectMergeAddScaled(p, w, k, zeroSign, mode, t0, 0.3f, fr, n, VectorWidths.None);
                    }
                    Assert.That(VectorWidthCases.Bits(merged), Is.EqualTo(VectorWidthCases.Bits(mergedRef)), $"Merge {mode}, zero sign {zeroSign}");
                    Assert.That(VectorWidthCases.Bits(fused), Is.EqualTo(VectorWidthCases.Bits(fusedRef)), $"ElectMergeAddScaled {mode}, zero sign {zeroSign}");
                }
        });
    }

    [TestCaseSource(nameof(Cases))]
    public void Bf16TiesMergeWidthBitIdenticalToScalar(string widthName, int n, int k, bool weighted)
    {
        var width = VectorWidthCases.RequireAccelerated(widthName);
        var rng = new System.Random(n * 17 + k * 3 + (weighted ? 1 : 0));
        var theta0 = VectorWidthCases.Tile(rng, n);
        for (int i = 0; i < n; i++)
            if (!float.IsFinite(theta0[i]) && rng.Next(2) == 0) theta0[i] = 0.5f; // mostly finite theta0, some non-finite
        // bf16 tasks near theta0: copies (tau = 0), +-0, subnormals, small differences, +-inf.
        var bf = Enumerable.Range(0, k).Select(_ => theta0.Select(t => rng.Next(12) switch
        {
            0 => (ushort)(BitConverter.SingleToUInt32Bits(t) >> 16),
            1 => (ushort)(rng.Next(2) << 15),
            2 => (ushort)((rng.Next(2) << 15) | rng.Next(1, 128)),
            3 => (ushort)(rng.Next(2) == 0 ? 0x7F80 : 0xFF80),
            _ => (ushort)(BitConverter.SingleToUInt32Bits(t + (float)((rng.NextDouble() * 2 - 1) * 0.1)) >> 16),
        }).ToArray()).ToArray();
        var weights = Weights(rng, k, weighted);
        var handles = bf.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = handles.Select(h => h.AddrOfPinnedObject()).ToArray();
            foreach (var thresholds in new[] { new float[k], Enumerable.Range(0, k).Select(t => 0.04f * (t % 3)).ToArray(), Enumerable.Repeat(float.NaN, k).ToArray() })
                foreach (TiesMergeMode mode in Enum.GetValues<TiesMergeMode>())
                    foreach (float zeroSign in new[] { 1f, -1f })
                    {
                        float[] output = new float[n], outputRef = new float[n];
                        long[] kept = new long[k], keptRef = new long[k];
                        Bf16Merge.TiesMerge(theta0, pointers, thresholds, weights, zeroSign, mode, 0.3f, output, kept, width);
                        Bf16Merge.TiesMerge(theta0, pointers, thresholds, weights, zeroSign, mode, 0.3f, outputRef, keptRef, VectorWidths.None);
                        string label = $"{mode}, zero sign {zeroSign}, thresholds {string.Join(' ', thresholds)}";
                        Assert.That(VectorWidthCases.Bits(output), Is.EqualTo(VectorWidthCases.Bits(outputRef)), label);
                        Assert.That(kept, Is.EqualTo(keptRef), label);
                    }
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }
}
