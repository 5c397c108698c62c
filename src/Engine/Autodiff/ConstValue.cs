using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.Engine.Autodiff;

/// <summary>
/// A small tensor whose values are known while the graph is built (shape arithmetic, Constant nodes,
/// small integer initializers). Integers and booleans are kept as long (so INT64_MAX in a Slice end
/// survives), floating values as double.
/// </summary>
internal sealed class ConstValue
{
    /// <summary>Values with more elements than this are not evaluated (they are data, not shapes).</summary>
    public const int MaxElements = 4096;

    public ConstValue(int elemType, long[] shape, long[]? ints, double[]? floats)
    {
        ElemType = elemType;
        Shape = shape;
        Ints = ints;
        Floats = floats;
    }

    public int ElemType { get; }
    public long[] Shape { get; }
    public long[]? Ints { get; }
    public double[]? Floats { get; }
    public int Count => Ints?.Length ?? Floats!.Length;
    public bool IsFloat => Floats is not null;

    public static bool IsFloatType(int t) => t is (int)DataType.Float or (int)DataType.Double or (int)DataType.Float16 or (int)DataType.Bfloat16;

    public static ConstValue OfInts(long[] values, long[]? shape = null) =>
        new((int)DataType.Int64, shape ?? [values.Length], values, null);

    public static ConstValue Make(int elemType, long[] shape, Func<int, double> f, Func<int, long> g)
    {
        int n = (int)shape.Aggregate(1L, (a, b) => a * b);
        if (IsFloatType(elemType)) return new(elemType, shape, null, Enumerable.Range(0, n).Select(f).ToArray());
        return new(elemType, shape, Enumerable.Range(0, n).Select(g).ToArray(), null);
    }

    public long Int(int i) => Ints is not null ? Ints[i] : (long)Floats![i];
    public double Float(int i) => Floats is not null ? Floats[i] : Ints![i];
    public long[] AsInts() => Enumerable.Range(0, Count).Select(Int).ToArray();

    /// <summary>Values of a TensorProto of a numeric type with at most <see cref="MaxElements"/>
    /// elements stored inline; null otherwise (external data, strings, large tensors).</summary>
    public static ConstValue? FromTensor(TensorProto t)
    {
        long[] shape = t.Dims.ToArray();
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (n > MaxElements || (t.HasDataLocation && t.DataLocation == TensorProto.Types.DataLocation.External)) return null;
        int count = (int)n;
        var rawData = t.RawData;   // kept alive to the end: it may be a view of a mapped file (MappedModelReader)
        ReadOnlySpan<byte> raw = t.HasRawData ? rawData.Span : default;
        try
        {
            switch ((DataType)t.DataType)
            {
                case DataType.Float:
                    return new(t.DataType, shape, null, t.HasRawData
                        ? Read(raw, count, 4, s => (double)BitConverter.ToSingle(s))
                        : t.FloatData.Select(v => (double)v).ToArray());
                case DataType.Double:
                    return new(t.DataType, shape, null, t.HasRawData ? Read(raw, count, 8, BitConverter.ToDouble) : t.DoubleData.ToArray());
                case DataType.Int64:
                    return new(t.DataType, shape, t.HasRawData ? Read(raw, count, 8, BitConverter.ToInt64) : t.Int64Data.ToArray(), null);
                case DataType.Int32:
                    return new(t.DataType, shape, t.HasRawData ? Read(raw, count, 4, s => (long)BitConverter.ToInt32(s)) : t.Int32Data.Select(v => (long)v).ToArray(), null);
                case DataType.Bool or DataType.Uint8:
                    return new(t.DataType, shape, t.HasRawData ? Read(raw, count, 1, s => (long)s[0]) : t.Int32Data.Select(v => (long)v).ToArray(), null);
                default:
                    return null;
            }
        }
        finally
        {
            GC.KeepAlive(rawData);
        }
    }

    private static T[] Read<T>(ReadOnlySpan<byte> raw, int count, int size, SpanFunc<T> f)
    {
        if (raw.Length != count * size) throw new InvalidDataException($"raw_data holds {raw.Length} bytes, expected {count * size}");
        var result = new T[count];
        for (int i = 0; i < count; i++) result[i] = f(raw.Slice(i * size, size));
        return result;
    }

    private delegate T SpanFunc<T>(ReadOnlySpan<byte> s);

    /// <summary>This value as a TensorProto (raw little-endian data) of its element type.</summary>
    public TensorProto ToTensor(string name)
    {
        var t = new TensorProto { Name = name, DataType = ElemType };
        t.Dims.AddRange(Shape);
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        for (int i = 0; i < Count; i++)
        {
            switch ((DataType)ElemType)
            {
                case DataType.Float: w.Write((float)Float(i)); break;
                case DataType.Double: w.Write(Float(i)); break;
                case DataType.Int64: w.Write(Int(i)); break;
                case DataType.Int32: w.Write((int)Int(i)); break;
                case DataType.Bool or DataType.Uint8: w.Write((byte)Int(i)); break;
                default: throw new NotSupportedException($"constant of element type {ElemType}");
            }
        }
        w.Flush();
        t.RawData = ByteString.CopyFrom(ms.ToArray());
        return t;
    }
}
