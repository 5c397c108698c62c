using System.Buffers.Binary;
using System.Text;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Tests.Safetensors;

/// <summary>A temp folder deleted with everything in it on Dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "amalgam-st-" + Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Builds safetensors bytes by hand, independently of our writer.</summary>
internal static class SafetensorsTestFiles
{
    /// <summary>8-byte little-endian length, the header text exactly as given (no padding), then data.</summary>
    public static byte[] Build(string header, ReadOnlySpan<byte> data, ulong? headerLengthOverride = null) =>
        Build(Encoding.UTF8.GetBytes(header), data, headerLengthOverride);

    public static byte[] Build(byte[] header, ReadOnlySpan<byte> data, ulong? headerLengthOverride = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLengthOverride ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes.AsSpan(8 + header.Length));
        return bytes;
    }

    /// <summary>An owning tensor filled with deterministic random bytes valid for its dtype (0/1 for bool).</summary>
    public static Tensor Random(string name, DType dtype, long[] shape, int seed)
    {
        var t = Tensor.Allocate(name, dtype, shape);
        if (t.ByteLength == 0) return t;
        var bytes = t.Write<byte>();
        new Random(seed).NextBytes(bytes);
        if (dtype == DType.Bool)
            for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return t;
    }

    /// <summary>Touches every byte of a tensor (so a bad view would fault or throw) and returns their sum.</summary>
    public static long SumBytes(Tensor t)
    {
        long s = 0;
        foreach (byte b in t.Bytes) s += b;
        return s;
    }
}
