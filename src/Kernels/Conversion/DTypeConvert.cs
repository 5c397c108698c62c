using System.Numerics.Tensors;

namespace Amalgam.Kernels;

/// <summary>
/// Loads any float tensor (f32, f16, bf16, f64) into f32 chunks and writes f32 chunks back in the
/// tensor's own dtype, so merge arithmetic runs in f32 whatever the checkpoint stores.
/// f64 -> f32 rounds to nearest even (a plain cast); f32 -> f16/bf16 as <see cref="Convert16"/>.
/// </summary>
public static class DTypeConvert
{
    /// <summary>Elements [start, start + destination.Length) of <paramref name="source"/> as f32.</summary>
    public static void ToFloat32(Tensor source, Span<float> destination, long start)
    {
        int n = destination.Length;
        switch (source.DType)
        {
            case DType.F32: source.Read<float>(start, n).CopyTo(destination); break;
            case DType.F16: Convert16.HalfToSingle(source.Read<ushort>(start, n), destination); break;
            case DType.BF16: Convert16.BFloat16ToSingle(source.Read<ushort>(start, n), destination); break;
            case DType.F64: TensorPrimitives.ConvertTruncating<double, float>(source.Read<double>(start, n), destination); break;
            default: throw NotFloat(source);
        }
    }

    /// <summary>Writes <paramref name="source"/> into elements [start, start + source.Length) of <paramref name="destination"/>, converted to its dtype.</summary>
    public static void FromFloat32(ReadOnlySpan<float> source, Tensor destination, long start)
    {
        int n = source.Length;
        switch (destination.DType)
        {
            case DType.F32: source.CopyTo(destination.Write<float>(start, n)); break;
            case DType.F16: Convert16.SingleToHalf(source, destination.Write<ushort>(start, n)); break;
            case DType.BF16: Convert16.SingleToBFloat16(source, destination.Write<ushort>(start, n)); break;
            case DType.F64: TensorPrimitives.ConvertChecked<float, double>(source, destination.Write<double>(start, n)); break;
            default: throw NotFloat(destination);
        }
    }

    private static ArgumentException NotFloat(Tensor t) =>
        new($"tensor '{t.Name}' is {t.DType.ShortName()}, not a float dtype (f32, f16, bf16, f64)");
}
