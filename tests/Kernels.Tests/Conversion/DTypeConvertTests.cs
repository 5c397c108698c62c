using NUnit.Framework;

namespace Amalgam.Kernels.Tests.Conversion;

/// <summary>Loading any float tensor into f32 and writing it back, checked element by element against the references in <see cref="ConversionTests"/>.</summary>
public class DTypeConvertTests
{
    private static readonly DType[] FloatTypes = [DType.F32, DType.F16, DType.BF16, DType.F64];

    private static float Expected(DType dtype, ulong raw) => dtype switch
    {
        DType.F32 => BitConverter.UInt32BitsToSingle((uint)raw),
        DType.F16 => BitConverter.UInt32BitsToSingle(ConversionTests.RefF16ToF32((ushort)raw)),
        DType.BF16 => BitConverter.UInt32BitsToSingle(ConversionTests.RefBf16ToF32((ushort)raw)),
        DType.F64 => (float)BitConverter.UInt64BitsToDouble(raw),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    [TestCaseSource(nameof(FloatTypes))]
    public void ToFloat32ReadsTheRequestedRange(DType dtype)
    {
        const int n = 300;
        var rng = new Random(5);
        using var t = Tensor.Allocate("w", dtype, [3, 100]);
        // Random finite values of the tensor's own dtype, written as raw bits.
        var raw = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            double v = (rng.NextDouble() - 0.5) * Math.ScaleB(1, rng.Next(-20, 20));
            raw[i] = dtype switch
            {
                DType.F32 => BitConverter.SingleToUInt32Bits((float)v),
                DType.F16 => BitConverter.HalfToUInt16Bits((Half)v),
                DType.BF16 => BitConverter.SingleToUInt32Bits((float)v) >> 16,
                _ => BitConverter.DoubleToUInt64Bits(v),
            };
            switch (dtype.Size())
            {
                case 2: t.Write<ushort>()[i] = (ushort)raw[i]; break;
                case 4: t.Write<uint>()[i] = (uint)raw[i]; break;
                default: t.Write<ulong>()[i] = raw[i]; break;
            }
        }
        foreach ((long start, int count) in new[] { (0L, 300), (7L, 71), (299L, 1), (300L, 0) })
        {
            var dst = new float[count];
            DTypeConvert.ToFloat32(t, dst, start);
            for (int i = 0; i < count; i++)
                Assert.That(dst[i], Is.EqualTo(Expected(dtype, raw[start + i])), $"{dtype} element {start + i}");
        }
        Assert.That(() => DTypeConvert.ToFloat32(t, new float[2], 299), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [TestCaseSource(nameof(FloatTypes))]
    public void FromFloat32WritesOnlyTheRequestedRange(DType dtype)
    {
        var rng = new Random(6);
        float[] src = Enumerable.Range(0, 77).Select(_ => (float)((rng.NextDouble() - 0.5) * 1e4)).ToArray();
        using var t = Tensor.Allocate("w", dtype, [200]);
        DTypeConvert.FromFloat32(src, t, 50);
        var back = new float[200];
        DTypeConvert.ToFloat32(t, back, 0);
        for (int i = 0; i < 200; i++)
        {
            float expected = i < 50 || i >= 127 ? 0f : dtype switch
            {
                DType.F16 => BitConverter.UInt32BitsToSingle(ConversionTests.RefF16ToF32(ConversionTests.RefF32ToF16(BitConverter.SingleToUInt32Bits(src[i - 50])))),
                DType.BF16 => BitConverter.UInt32BitsToSingle(ConversionTests.RefBf16ToF32(ConversionTests.RefF32ToBf16(BitConverter.SingleToUInt32Bits(src[i - 50])))),
                _ => src[i - 50], // f32 copies; f64 widens exactly and narrows back exactly
            };
            Assert.That(back[i], Is.EqualTo(expected), $"{dtype} element {i}");
        }
        if (dtype == DType.F64)
            Assert.That(t.Read<double>(50, 77).ToArray(), Is.EqualTo(src.Select(x => (double)x).ToArray()));
    }

    [Test]
    public void NonFloatTensorThrows()
    {
        using var t = Tensor.Allocate("ids", DType.I64, [4]);
        Assert.That(() => DTypeConvert.ToFloat32(t, new float[4], 0), Throws.ArgumentException.With.Message.Contains("ids"));
        Assert.That(() => DTypeConvert.FromFloat32(new float[4], t, 0), Throws.ArgumentException.With.Message.Contains("ids"));
    }
}
