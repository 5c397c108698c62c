using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Merging;

/// <summary>The tile accessors of <see cref="TensorGroup"/> and the NaN/Inf check on stored dtypes.</summary>
public class TensorGroupTests
{
    private const int N = 3 * TensorGroup.TileElements + 77;   // several tiles and a short tail

    /// <summary>Value i of a tensor, written by hand in the stored dtype's encoding.</summary>
    private static double Value(int model, int i) => Math.Sin(0.37 * i + model) * (1 + model);

    /// <summary>bf16 = the top 16 bits of the f32 (truncation of a float; decoding back is exact).</summary>
    private static ushort Bf16Bits(float x) => (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16);

    private static Tensor Make(DType dtype, int model)
    {
        var t = Tensor.Allocate($"m{model}", dtype, [N]);
        for (int i = 0; i < N; i++)
        {
            double v = Value(model, i);
            switch (dtype)
            {
                case DType.F32: t.Write<float>(i, 1)[0] = (float)v; break;
                case DType.F64: t.Write<double>(i, 1)[0] = v; break;
                case DType.F16: t.Write<Half>(i, 1)[0] = (Half)v; break;
                default: t.Write<ushort>(i, 1)[0] = Bf16Bits((float)v); break;
            }
        }
        return t;
    }

    /// <summary>The f32 value a stored element stands for, decoded independently of DTypeConvert.</summary>
    private static float Expected(DType dtype, int model, int i)
    {
        double v = Value(model, i);
        return dtype switch
        {
            DType.F32 or DType.F64 => (float)v,
            DType.F16 => (float)(Half)v,
            _ => BitConverter.UInt32BitsToSingle((uint)Bf16Bits((float)v) << 16),
        };
    }

    [TestCase(DType.F32)]
    [TestCase(DType.F16)]
    [TestCase(DType.BF16)]
    [TestCase(DType.F64)]
    public void TilesReadTheStoredValuesAsF32AndViewF32InPlace(DType dtype)
    {
        var tensors = Enumerable.Range(0, 4).Select(m => Make(dtype, m)).ToList();
        try
        {
            var g = new TensorGroup("w", 0, tensors[0], tensors.Skip(1).ToList());
            var scratch = new float[3 * 1000];
            var pointers = new nint[3];
            foreach (long start in new long[] { 0, 999, N - 1000 })
            {
                var t0 = g.Theta0Tile(start, 1000, scratch.AsSpan(0, 1000));
                for (int i = 0; i < 1000; i++) Assert.That(t0[i], Is.EqualTo(Expected(dtype, 0, (int)start + i)));
                // Stored f32 is a view of the tensor itself; anything else lands in the scratch.
                bool inScratch = t0.Overlaps(scratch);
                Assert.That(inScratch, Is.EqualTo(dtype != DType.F32));

                var tau = new float[1000];
                unsafe
                {
                    fixed (float* _ = scratch)
                    {
                        var tiles = g.ThetaTiles(start, 1000, scratch, pointers);
                        Assert.That(tiles.Count, Is.EqualTo(3));
                        for (int k = 0; k < 3; k++)
                            for (int i = 0; i < 1000; i++)
                                Assert.That(tiles[k][i], Is.EqualTo(Expected(dtype, k + 1, (int)start + i)));
                    }
                }
                var theta0 = Enumerable.Range(0, 1000).Select(i => Expected(dtype, 0, (int)start + i)).ToArray();
                g.TaskVectorTile(2, start, theta0, tau);
                for (int i = 0; i < 1000; i++)
                    Assert.That(tau[i], Is.EqualTo(Expected(dtype, 3, (int)start + i) - theta0[i]));
            }
        }
        finally
        {
            foreach (var t in tensors) t.Dispose();
        }
    }

    [TestCase(DType.F32, float.NaN)]
    [TestCase(DType.F16, float.PositiveInfinity)]
    [TestCase(DType.BF16, float.NegativeInfinity)]
    [TestCase(DType.BF16, float.NaN)]
    [TestCase(DType.F64, float.NaN)]
    public void FiniteCheckFindsTheFirstBadElementInTheStoredDtype(DType dtype, float bad)
    {
        using var t = Make(dtype, 1);
        Assert.That(FiniteCheck.FirstNonFinite(t), Is.EqualTo(-1));
        foreach (int at in new[] { N - 3, TensorGroup.TileElements + 5, 2 * TensorGroup.TileElements + 1 })
        {
            switch (dtype)
            {
                case DType.F32: t.Write<float>(at, 1)[0] = bad; break;
                case DType.F64: t.Write<double>(at, 1)[0] = bad; break;
                case DType.F16: t.Write<Half>(at, 1)[0] = (Half)bad; break;
                default: t.Write<ushort>(at, 1)[0] = Bf16Bits(bad); break;
            }
        }
        Assert.That(FiniteCheck.FirstNonFinite(t), Is.EqualTo(TensorGroup.TileElements + 5));
    }

    [Test]
    public void FiniteCheckTreatsF64BeyondF32RangeAsInfinite()
    {
        using var t = Make(DType.F64, 1);
        t.Write<double>(17, 1)[0] = 1e300;   // finite in f64, +Inf once rounded to f32 for the merge
        Assert.That(FiniteCheck.FirstNonFinite(t), Is.EqualTo(17));
    }
}
