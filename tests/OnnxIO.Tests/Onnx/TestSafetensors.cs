using System.Buffers.Binary;
using System.Text.Json;

namespace Amalgam.OnnxIO.Tests.Onnx;

/// <summary>
/// A minimal safetensors reader for the fixtures' .io.safetensors files (u64 LE header length,
/// JSON header, raw bytes), private to these tests until the library's own reader is merged.
/// </summary>
internal static class TestSafetensors
{
    public sealed record Entry(string DType, long[] Shape, byte[] Data)
    {
        public float[] Floats() => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(Data).ToArray();
    }

    public static Dictionary<string, Entry> Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        int dataStart = checked(8 + (int)headerLength);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            result[p.Name] = new Entry(p.Value.GetProperty("dtype").GetString()!, shape,
                bytes.AsSpan(dataStart + offsets[0], offsets[1] - offsets[0]).ToArray());
        }
        return result;
    }
}
