using System.Buffers.Binary;
using System.Text.Json;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>
/// A deliberately small safetensors reader for test reference data (u64 LE header length, JSON header,
/// raw little-endian data). Independent of the product reader so the two can check each other later.
/// </summary>
internal static class SafetensorsTestReader
{
    /// <summary>Every tensor in the file, copied into owning tensors. Dispose them.</summary>
    public static Dictionary<string, Tensor> ReadAll(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        int dataStart = checked(8 + (int)headerLength);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var result = new Dictionary<string, Tensor>();
        foreach (JsonProperty entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            string dtypeName = entry.Value.GetProperty("dtype").GetString()!;
            if (!DTypes.TryParseSafetensors(dtypeName, out DType dtype)) throw new InvalidDataException($"{path}: dtype {dtypeName}");
            long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var tensor = Tensor.Allocate(entry.Name, dtype, shape, zero: false);
            if (offsets[1] - offsets[0] != tensor.ByteLength) throw new InvalidDataException($"{path}: {entry.Name} size");
            file.AsSpan(dataStart + (int)offsets[0], (int)tensor.ByteLength).CopyTo(tensor.Write<byte>());
            result[entry.Name] = tensor;
        }
        return result;
    }
}
