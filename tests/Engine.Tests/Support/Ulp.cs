using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Support;

/// <summary>Rounds an f64 reference to an output dtype and measures distances in units in the last place.</summary>
public static class Ulp
{
    /// <summary>The f64 value rounded to <paramref name="dtype"/> (f16 by Half's conversion, bf16 by
    /// round-to-nearest-even of the f32 bits), returned as f64.</summary>
    public static double Round(double x, DType dtype) => dtype switch
    {
        DType.F32 => (float)x,
        DType.F16 => (double)(Half)x,
        DType.BF16 => FromBf16(ToBf16((float)x)),
        DType.F64 => x,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>How many representable <paramref name="dtype"/> values lie between a and b (both representable).</summary>
    public static long Distance(double a, double b, DType dtype) => dtype switch
    {
        DType.F16 => Math.Abs(Ordered(BitConverter.HalfToUInt16Bits((Half)a), 15) - Ordered(BitConverter.HalfToUInt16Bits((Half)b), 15)),
        DType.BF16 => Math.Abs(Ordered(ToBf16((float)a), 15) - Ordered(ToBf16((float)b), 15)),
        DType.F32 => Math.Abs(Ordered(BitConverter.SingleToUInt32Bits((float)a), 31) - Ordered(BitConverter.SingleToUInt32Bits((float)b), 31)),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static long Ordered(ulong bits, int signBit)
    {
        ulong magnitude = bits & ((1UL << signBit) - 1);
        return (bits >> signBit) != 0 ? -(long)magnitude : (long)magnitude;
    }

    private static ushort ToBf16(float f)
    {
        uint b = BitConverter.SingleToUInt32Bits(f);
        return (ushort)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
    }

    private static double FromBf16(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);
}
