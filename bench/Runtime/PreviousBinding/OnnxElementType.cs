using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// ONNX tensor element types with their <c>TensorProto.DataType</c> numbers, which ORT's
/// <c>ONNXTensorElementDataType</c> copies. Types past BFloat16 (float8, int4, ...) keep their number.
/// </summary>
internal enum OnnxElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

/// <summary>What kind of value an input or output is (ORT's <c>ONNXType</c>); only tensors map to our tensors.</summary>
internal enum OnnxValueKind
{
    Unknown = 0,
    Tensor = 1,
    Sequence = 2,
    Map = 3,
    Opaque = 4,
    SparseTensor = 5,
    Optional = 6,
}

internal static class OnnxElementTypes
{
    /// <summary>The ONNX element type of one of our dtypes (every <see cref="DType"/> has one).</summary>
    public static OnnxElementType ToOnnx(this DType t) => t switch
    {
        DType.F32 => OnnxElementType.Float,
        DType.F16 => OnnxElementType.Float16,
        DType.BF16 => OnnxElementType.BFloat16,
        DType.F64 => OnnxElementType.Double,
        DType.I64 => OnnxElementType.Int64,
        DType.I32 => OnnxElementType.Int32,
        DType.I8 => OnnxElementType.Int8,
        DType.U8 => OnnxElementType.UInt8,
        DType.Bool => OnnxElementType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, null),
    };

    /// <summary>Our dtype for an ONNX element type, or false for types our tensors cannot hold (string, uint16, ...).</summary>
    public static bool TryToDType(this OnnxElementType t, out DType dtype)
    {
        switch (t)
        {
            case OnnxElementType.Float: dtype = DType.F32; return true;
            case OnnxElementType.Float16: dtype = DType.F16; return true;
            case OnnxElementType.BFloat16: dtype = DType.BF16; return true;
            case OnnxElementType.Double: dtype = DType.F64; return true;
            case OnnxElementType.Int64: dtype = DType.I64; return true;
            case OnnxElementType.Int32: dtype = DType.I32; return true;
            case OnnxElementType.Int8: dtype = DType.I8; return true;
            case OnnxElementType.UInt8: dtype = DType.U8; return true;
            case OnnxElementType.Bool: dtype = DType.Bool; return true;
            default: dtype = default; return false;
        }
    }

    /// <summary>Lower-case display name ("float", "int64", "element type 17" for unnamed ones).</summary>
    public static string DisplayName(this OnnxElementType t) =>
        Enum.IsDefined(t) ? t.ToString().ToLowerInvariant() : $"element type {(int)t}";
}
