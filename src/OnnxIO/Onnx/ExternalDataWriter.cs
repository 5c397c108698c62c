using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// Writes a model's tensor values into one external data file and points the TensorProtos at it
/// (location, offset, length; data_location = EXTERNAL), like onnx.save_model with
/// all_tensors_to_one_file=True.
/// </summary>
internal static class ExternalDataWriter
{
    /// <summary>Every tensor starts at a multiple of this, so a mapped file gives aligned tensors.</summary>
    public const int Alignment = 64;

    /// <summary>Tensors of at least <see cref="PageAlignThreshold"/> bytes start at a multiple of this
    /// (onnx's align_offset default: allocation granularity, so a runtime can map them directly).</summary>
    public const int PageAlignment = 65536;
    public const long PageAlignThreshold = 1 << 20;

    /// <summary>Moves main-graph initializers of at least <paramref name="threshold"/> bytes and copies
    /// every tensor that is already external into <paramref name="dataPath"/>; edits <paramref name="model"/>
    /// in place. <paramref name="location"/> is the name the model records for the file.</summary>
    public static void Write(ModelProto model, string dataPath, string location, long threshold, string file, string sourceDirectory)
    {
        var moveInline = new HashSet<TensorProto>(ReferenceEqualityComparer.Instance);
        foreach (var t in model.Graph.Initializer)
            if (!TensorProtoCodec.IsExternal(t) && InlineSize(t, file) >= threshold) moveInline.Add(t);

        using var output = new FileStream(dataPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        foreach (var t in TensorWalk.AllTensors(model))
        {
            bool external = TensorProtoCodec.IsExternal(t);
            if (!external && !moveInline.Contains(t)) continue;
            long start = output.Position;
            long size;
            if (external)
            {
                long expected = OnnxDTypes.TryToDType(t.DataType, out _) ? TensorProtoCodec.Describe(t, file).ByteLength : -1;
                var source = ExternalData.Resolve(t, file, sourceDirectory, expected);
                start = Pad(output, source.Length);
                ExternalData.CopyTo(source, output, file, t.Name);
                size = source.Length;
            }
            else if (t.HasRawData)
            {
                // Straight from the ByteString (a mapped file or merged bytes every output shares): no managed copy
                // per tensor per output. The span does not hold the bytes; the ByteString does, until the write is done.
                var raw = t.RawData;
                start = Pad(output, raw.Length);
                output.Write(raw.Span);
                GC.KeepAlive(raw);
                size = raw.Length;
            }
            else
            {
                // Values in a typed field (float_data, ...): decoded into native memory, written from there.
                using var decoded = TensorProtoCodec.Decode(t, file, baseDirectory: "");
                start = Pad(output, decoded.ByteLength);
                output.Write(decoded.Bytes);
                size = decoded.ByteLength;
            }
            TensorProtoCodec.ClearValues(t);
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = start.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = size.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        output.Flush(flushToDisk: false);
    }

    /// <summary>Bytes the tensor's values take inline; -1 if it cannot be moved (strings, unknown types
    /// in typed fields).</summary>
    private static long InlineSize(TensorProto t, string file)
    {
        if (t.HasRawData) return t.RawData.Length;
        if (!OnnxDTypes.TryToDType(t.DataType, out _)) return -1;
        return TensorProtoCodec.Describe(t, file).ByteLength;
    }

    /// <summary>Zero-pads the stream to the alignment a tensor of <paramref name="size"/> bytes gets.</summary>
    private static long Pad(Stream output, long size)
    {
        long align = size >= PageAlignThreshold ? PageAlignment : Alignment;
        long pos = output.Position;
        long start = (pos + align - 1) / align * align;
        if (start > pos) output.Write(new byte[start - pos]);
        return start;
    }
}
