using System.Buffers;
using Amalgam.Kernels;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// Reads an ONNX file without copying its weights: the file is mapped, the protobuf wire format is scanned
/// down to the main graph's initializers (ModelProto.graph = 7, GraphProto.initializer = 5, TensorProto.raw_data
/// = 9), everything but their raw_data is parsed by protobuf as usual, and each raw_data becomes a ByteString
/// over the mapping (<see cref="StorageMemory"/>: the mapping lives while a model refers to it). Parsing the whole
/// file copied every weight into fresh managed arrays: nine ViT-B/32-sized models are 3.2 GB of first-touched
/// memory, a sixth of a merge's system time on a VM where first touch is slow, and all of its resident set.
/// The result equals <c>ModelProto.Parser.ParseFrom</c>'s: fields keep their order, a field may repeat (the
/// last raw_data wins, as protobuf's merge does), unknown fields are kept. Anything the scan does not expect
/// (groups, a second graph field, a length past the end, a varint over ten bytes) returns null, and the caller
/// parses the usual way, whose error then names the problem.
/// <para>The price of not copying: the file must not be truncated or rewritten in place by another program
/// while a model read from it is in use (a truncation is a SIGBUS when the bytes are read; an in-place rewrite
/// changes the weights under the model). Replacing it by a rename, as every writer here does, is safe: the
/// mapping keeps the old file.</para>
/// </summary>
internal static unsafe class MappedModelReader
{
    private const int ModelGraph = 7, GraphInitializer = 5, TensorRawData = 9;
    private const int LengthDelimited = 2;

    /// <summary>
    /// The model in the file <paramref name="fs"/> is open on, with raw_data over a mapping of it, or null (see the
    /// class; also for a stream that cannot be mapped, such as a pipe, and on Windows, where a mapped file cannot be
    /// replaced by a rename, which every save here does). The stream is left at its position.
    /// </summary>
    public static ModelProto? TryRead(FileStream fs, string path)
    {
        if (OperatingSystem.IsWindows() || !fs.CanSeek) return null;
        MappedFileStorage map;
        try
        {
            map = new MappedFileStorage(fs, path);
        }
        catch (Exception e) when (e is IOException or NotSupportedException or UnauthorizedAccessException)
        {
            return null;
        }
        bool kept = false;
        try
        {
            if (map.ByteLength == 0 || map.ByteLength > OnnxModel.MaxModelFileBytes) return null;
            var file = new ReadOnlySpan<byte>(map.Pointer, (int)map.ByteLength);
            var rawData = new List<Range?>();
            byte[]? skeleton = ModelSkeleton(file, rawData);
            if (skeleton is null) return null;
            ModelProto proto;
            try
            {
                var input = CodedInputStream.CreateWithLimits(new MemoryStream(skeleton, writable: false), Math.Max(skeleton.Length, 1), OnnxModel.RecursionLimit);
                proto = ModelProto.Parser.ParseFrom(input);
            }
            catch (InvalidProtocolBufferException)
            {
                return null;
            }
            if (proto.Graph is null || proto.Graph.Initializer.Count != rawData.Count) return null;
            if (rawData.All(r => r is null)) return proto;
            var memory = new StorageMemory(map).Memory;
            for (int i = 0; i < rawData.Count; i++)
                if (rawData[i] is Range r) proto.Graph.Initializer[i].RawData = UnsafeByteOperations.UnsafeWrap(memory[r]);
            kept = true;
            return proto;
        }
        finally
        {
            if (!kept) map.Dispose();
        }
    }

    /// <summary>The file with every graph initializer's raw_data left out (its range recorded, in initializer order), or null.</summary>
    private static byte[]? ModelSkeleton(ReadOnlySpan<byte> file, List<Range?> rawData)
    {
        int graphs = 0;
        return Rewrite(file, 0, file.Length, ModelGraph, (f, start, end, output) =>
        {
            if (++graphs > 1) return false;   // protobuf would merge two graph fields: leave that to it
            var graph = Rewrite(f, start, end, GraphInitializer, (f, start, end, output) =>
            {
                Range? raw = null;
                // A later raw_data replaces an earlier one, as in protobuf's merge.
                var tensor = Rewrite(f, start, end, TensorRawData, (_, start, end, _) => { raw = start..end; return true; });
                if (tensor is null) return false;
                rawData.Add(raw);
                WriteField(output, GraphInitializer, tensor);
                return true;
            });
            if (graph is null) return false;
            WriteField(output, ModelGraph, graph);
            return true;
        });
    }

    /// <summary>What to do with the payload <c>file[start..end)</c> of the field <see cref="Rewrite"/> was given: write to <c>output</c>, or not; false to give up.</summary>
    private delegate bool FieldHandler(ReadOnlySpan<byte> file, int start, int end, ArrayBufferWriter<byte> output);

    /// <summary>
    /// The message in <paramref name="file"/>[<paramref name="pos"/>..<paramref name="end"/>) field by field, in order: every
    /// field copied as it is, except each length-delimited field <paramref name="field"/>, which <paramref name="handle"/>
    /// writes (or drops). Null when a tag, length or value does not fit, or <paramref name="handle"/> gives up.
    /// </summary>
    private static byte[]? Rewrite(ReadOnlySpan<byte> file, int pos, int end, int field, FieldHandler handle)
    {
        var output = new ArrayBufferWriter<byte>();
        var message = file[..end];
        while (pos < end)
        {
            int start = pos;
            if (!ReadTag(message, ref pos, out int number, out int wireType)) return null;
            if (number == field && wireType == LengthDelimited)
            {
                if (!ReadLength(message, ref pos, out int length) || !handle(file, pos, pos + length, output)) return null;
                pos += length;
            }
            else
            {
                if (!Skip(message, ref pos, wireType)) return null;
                output.Write(message[start..pos]);
            }
        }
        return output.WrittenSpan.ToArray();
    }

    private static bool ReadTag(ReadOnlySpan<byte> s, ref int pos, out int field, out int wireType)
    {
        field = wireType = 0;
        if (!ReadVarint(s, ref pos, out ulong tag) || tag > uint.MaxValue || tag >> 3 == 0) return false;
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        return true;
    }

    /// <summary>A length prefix that fits in what is left of <paramref name="s"/>.</summary>
    private static bool ReadLength(ReadOnlySpan<byte> s, ref int pos, out int length)
    {
        length = 0;
        if (!ReadVarint(s, ref pos, out ulong v) || v > (ulong)(s.Length - pos)) return false;
        length = (int)v;
        return true;
    }

    private static bool ReadVarint(ReadOnlySpan<byte> s, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (pos >= s.Length) return false;
            byte b = s[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    /// <summary>Moves past one field's value; false for groups (wire types 3, 4) and unknown wire types.</summary>
    private static bool Skip(ReadOnlySpan<byte> s, ref int pos, int wireType)
    {
        switch (wireType)
        {
            case 0: return ReadVarint(s, ref pos, out _);
            case 1: return Advance(s, ref pos, 8);
            case LengthDelimited: return ReadLength(s, ref pos, out int length) && Advance(s, ref pos, length);
            case 5: return Advance(s, ref pos, 4);
            default: return false;
        }
    }

    private static bool Advance(ReadOnlySpan<byte> s, ref int pos, int count)
    {
        if (count > s.Length - pos) return false;
        pos += count;
        return true;
    }

    private static void WriteField(ArrayBufferWriter<byte> output, int field, ReadOnlySpan<byte> payload)
    {
        WriteVarint(output, (ulong)((field << 3) | LengthDelimited));
        WriteVarint(output, (ulong)payload.Length);
        output.Write(payload);
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, ulong value)
    {
        var span = output.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        output.Advance(n);
    }
}
