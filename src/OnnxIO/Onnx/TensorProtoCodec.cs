using Amalgam.Kernels;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// Converts between ONNX TensorProto and our <see cref="Tensor"/>. A TensorProto keeps its values in
/// one of three places (onnx.proto, TensorProto): raw_data (little-endian bytes), a typed repeated
/// field (float_data, int32_data, ...), or an external file (data_location = EXTERNAL).
/// </summary>
internal static class TensorProtoCodec
{
    static TensorProtoCodec()
    {
        // raw_data and external data are little-endian; we copy them as-is.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX I/O needs a little-endian machine");
    }

    /// <summary>Dtype, shape and byte length of a tensor, checked; throws BadInputException naming it.</summary>
    public static (DType DType, long[] Shape, long ByteLength) Describe(TensorProto t, string file)
    {
        if (!OnnxDTypes.TryToDType(t.DataType, out DType dtype))
            throw new BadInputException($"{file}: tensor '{t.Name}' has element type {OnnxDTypes.OnnxName(t.DataType)}, which is not supported");
        long[] shape = t.Dims.ToArray();
        if (!Shapes.TryElementCount(shape, out long count) || count > long.MaxValue / dtype.Size())
            throw new BadInputException($"{file}: tensor '{t.Name}' has an invalid shape {Shapes.Format(shape)}");
        if (t.Segment is not null)
            throw new BadInputException($"{file}: tensor '{t.Name}' is segmented, which is not supported");
        return (dtype, shape, count * dtype.Size());
    }

    public static bool IsExternal(TensorProto t) => t.HasDataLocation && t.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>
    /// The tensor's values as a read-only view of the mapped model file its raw_data lies in (see
    /// <see cref="MappedModelReader"/>; the view holds the mapping), or null when they lie anywhere else
    /// (a parsed model's managed bytes, a typed field, external data, a replaced initializer, shared merged bytes). The stored
    /// size is checked against the shape as in <see cref="Decode"/>.
    /// </summary>
    public static Tensor? TryView(TensorProto t, string file)
    {
        if (IsExternal(t) || !t.HasRawData) return null;
        var raw = t.RawData;
        // Only a read-only storage: a SharedBytes replacement is writable native memory every output model shares.
        if (!MemoryMarshal.TryGetMemoryManager(raw.Memory, out StorageMemory? mapped, out int start, out int length) || !mapped!.Storage.IsReadOnly) return null;
        var (dtype, shape, bytes) = Describe(t, file);
        if (length != bytes) throw RawDataSizeMismatch(t, file, length, shape, bytes);
        return Tensor.View(t.Name, dtype, shape, mapped.Storage, start);
    }

    /// <summary>The tensor's values as a new owning tensor named like the TensorProto. The stored
    /// size is checked against the shape before anything is allocated.</summary>
    public static unsafe Tensor Decode(TensorProto t, string file, string baseDirectory)
    {
        var (dtype, shape, bytes) = Describe(t, file);
        ExternalRef? ext = null;
        if (IsExternal(t))
            ext = ExternalData.Resolve(t, file, baseDirectory, bytes);
        else if (t.HasRawData && t.RawData.Length != bytes)
            throw RawDataSizeMismatch(t, file, t.RawData.Length, shape, bytes);
        else if (!t.HasRawData)
            CheckTypedCount(t, dtype, bytes / dtype.Size(), file);

        var result = Tensor.Allocate(t.Name, dtype, shape, zero: false);
        try
        {
            if (ext is { } e) ExternalData.ReadInto(e, result.Pointer, file, t.Name);
            else if (t.HasRawData)
            {
                // raw_data may be a view of a mapped file whose mapping only the ByteString keeps alive: hold it past the copy.
                var raw = t.RawData;
                raw.Span.CopyTo(new Span<byte>(result.Pointer, checked((int)bytes)));
                GC.KeepAlive(raw);
            }
            else DecodeTypedField(t, result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static BadInputException RawDataSizeMismatch(TensorProto t, string file, long have, long[] shape, long needs) =>
        new($"{file}: tensor '{t.Name}' has {have} bytes of raw_data, its shape {Shapes.Format(shape)} needs {needs}");

    /// <summary>The typed field for <paramref name="dtype"/> must hold exactly one value per element.</summary>
    private static void CheckTypedCount(TensorProto t, DType dtype, long n, string file)
    {
        (int have, string field) = dtype switch
        {
            DType.F32 => (t.FloatData.Count, "float_data"),
            DType.F64 => (t.DoubleData.Count, "double_data"),
            DType.I64 => (t.Int64Data.Count, "int64_data"),
            _ => (t.Int32Data.Count, "int32_data"),
        };
        if (have != n)
            throw new BadInputException($"{file}: tensor '{t.Name}' has {have} values in {field}, its shape {Shapes.Format(t.Dims.ToArray())} needs {n}");
    }

    /// <summary>Values stored in the typed fields (counts checked by <see cref="CheckTypedCount"/>).
    /// onnx.proto: int32_data also carries int8, uint8, bool, float16 and bfloat16 values
    /// (float16/bfloat16 as their bit patterns), one per int32.</summary>
    private static void DecodeTypedField(TensorProto t, Tensor result)
    {
        switch (result.DType)
        {
            case DType.F32: CopyRepeated(t.FloatData, result.Write<float>()); break;
            case DType.F64: CopyRepeated(t.DoubleData, result.Write<double>()); break;
            case DType.I64: CopyRepeated(t.Int64Data, result.Write<long>()); break;
            case DType.I32: CopyRepeated(t.Int32Data, result.Write<int>()); break;
            case DType.F16 or DType.BF16:
            {
                var dst = result.Write<ushort>();
                for (int i = 0; i < dst.Length; i++) dst[i] = unchecked((ushort)t.Int32Data[i]);
                break;
            }
            default:   // I8, U8, Bool
            {
                var dst = result.Write<byte>();
                for (int i = 0; i < dst.Length; i++) dst[i] = unchecked((byte)t.Int32Data[i]);
                break;
            }
        }
    }

    private static void CopyRepeated<T>(Google.Protobuf.Collections.RepeatedField<T> src, Span<T> dst)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = src[i];
    }

    /// <summary>Stores <paramref name="values"/> in <paramref name="t"/> as raw_data, dropping any typed
    /// field or external reference; name, dims, data_type and doc_string stay.</summary>
    public static void SetRawData(TensorProto t, ReadOnlySpan<byte> values)
    {
        ClearValues(t);
        t.RawData = ByteString.CopyFrom(values);
    }

    /// <summary>Removes the tensor's values from wherever they are stored.</summary>
    public static void ClearValues(TensorProto t)
    {
        t.FloatData.Clear();
        t.Int32Data.Clear();
        t.StringData.Clear();
        t.Int64Data.Clear();
        t.DoubleData.Clear();
        t.Uint64Data.Clear();
        t.ClearRawData();
        t.ExternalData.Clear();
        // Clear rather than set DEFAULT, so an inlined tensor serialises exactly like one never external.
        t.ClearDataLocation();
    }
}
