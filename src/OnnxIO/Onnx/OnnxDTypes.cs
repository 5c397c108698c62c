using Amalgam.Kernels;
using Onnx;
using OnnxType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>Maps ONNX element types (TensorProto.DataType codes) to our <see cref="DType"/>.</summary>
public static class OnnxDTypes
{
    /// <summary>Our dtype for an ONNX element type code; false for types we do not handle
    /// (strings, complex, unsigned 16/32/64, float8, ...).</summary>
    public static bool TryToDType(int onnxDataType, out DType dtype)
    {
        switch ((OnnxType)onnxDataType)
        {
            case OnnxType.Float: dtype = DType.F32; return true;
            case OnnxType.Float16: dtype = DType.F16; return true;
            case OnnxType.Bfloat16: dtype = DType.BF16; return true;
            case OnnxType.Double: dtype = DType.F64; return true;
            case OnnxType.Int64: dtype = DType.I64; return true;
            case OnnxType.Int32: dtype = DType.I32; return true;
            case OnnxType.Int8: dtype = DType.I8; return true;
            case OnnxType.Uint8: dtype = DType.U8; return true;
            case OnnxType.Bool: dtype = DType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>The ONNX element type code of <paramref name="dtype"/>.</summary>
    public static int ToOnnx(DType dtype) => (int)(dtype switch
    {
        DType.F32 => OnnxType.Float,
        DType.F16 => OnnxType.Float16,
        DType.BF16 => OnnxType.Bfloat16,
        DType.F64 => OnnxType.Double,
        DType.I64 => OnnxType.Int64,
        DType.I32 => OnnxType.Int32,
        DType.I8 => OnnxType.Int8,
        DType.U8 => OnnxType.Uint8,
        DType.Bool => OnnxType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    });

    /// <summary>Display name of an ONNX element type code ("FLOAT", "INT64", "type 99").</summary>
    public static string OnnxName(int onnxDataType) =>
        Enum.IsDefined(typeof(OnnxType), onnxDataType)
            ? ((OnnxType)onnxDataType).ToString().ToUpperInvariant()
            : $"type {onnxDataType}";
}
