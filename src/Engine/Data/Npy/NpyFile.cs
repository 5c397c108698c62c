using System.Buffers.Binary;
using System.Text;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Npy;

/// <summary>
/// Reads and writes NumPy .npy files (f32, f64, i64, i32, u8; little-endian, C order): the format
/// of the CLI's data and label files. Reading is bounded (header size, rank, data size checked
/// against the file length before anything is allocated); writing goes to a temp file in the same
/// folder, then renames, and produces the bytes numpy.save would for the same array.
/// </summary>
public static class NpyFile
{
    private const int Alignment = 64;
    private const int ChunkBytes = 1 << 20;

    /// <summary>Reads <paramref name="path"/> into a new tensor named <paramref name="name"/> (default: the file name without extension).</summary>
    public static Tensor Read(string path, string? name = null)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        { throw new BadInputException($"{path}: file not found", e); }
        using (stream)
        {
            var header = ReadHeader(stream, path);
            long count = Shapes.ElementCount(header.Shape);
            long dataBytes = count * header.DType.Size();
            long remaining = stream.Length - stream.Position;
            if (remaining != dataBytes)
                throw new BadInputException($"{path}: .npy data is {remaining} bytes, but shape ({string.Join(", ", header.Shape)}) of {header.DType.ShortName()} needs {dataBytes}");
            var tensor = Tensor.Allocate(name ?? Path.GetFileNameWithoutExtension(path), header.DType, header.Shape, zero: false);
            try
            {
                for (long at = 0; at < dataBytes; at += ChunkBytes)
                {
                    int n = (int)Math.Min(ChunkBytes, dataBytes - at);
                    stream.ReadExactly(tensor.Write<byte>(at, n));
                }
            }
            catch
            {
                tensor.Dispose();
                throw;
            }
            return tensor;
        }
    }

    /// <summary>Reads and checks the magic, version and header dict; leaves the stream at the data.</summary>
    public static NpyHeader ReadHeader(Stream stream, string path)
    {
        Span<byte> prefix = stackalloc byte[12];
        if (stream.ReadAtLeast(prefix[..8], 8, throwOnEndOfStream: false) < 8 || !prefix[..6].SequenceEqual(NpyHeader.Magic))
            throw new BadInputException($"{path}: not a .npy file (no \\x93NUMPY magic)");
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
            throw new BadInputException($"{path}: .npy format version {major}.{minor} is not supported (1.0, 2.0 or 3.0)");
        int lengthBytes = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(prefix.Slice(8, lengthBytes), lengthBytes, throwOnEndOfStream: false) < lengthBytes)
            throw new BadInputException($"{path}: truncated .npy header");
        long headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(prefix.Slice(8, 2))
            : BinaryPrimitives.ReadUInt32LittleEndian(prefix.Slice(8, 4));
        if (headerLength > NpyHeader.MaxHeaderBytes)
            throw new BadInputException($"{path}: .npy header of {headerLength} bytes is longer than the {NpyHeader.MaxHeaderBytes} allowed");
        var text = new byte[headerLength];
        if (stream.ReadAtLeast(text, text.Length, throwOnEndOfStream: false) < text.Length)
            throw new BadInputException($"{path}: truncated .npy header");
        return NpyHeader.ParseDict(NpyHeader.DecodeHeader(text, major), path);
    }

    /// <summary>Writes <paramref name="tensor"/> (f32, f64, i64, i32 or u8) as a C-order .npy file.</summary>
    public static void Write(string path, Tensor tensor)
    {
        byte[] header = BuildHeader(new NpyHeader(tensor.DType, tensor.ShapeArray()));
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                stream.Write(header);
                for (long at = 0; at < tensor.ByteLength; at += ChunkBytes)
                {
                    int n = (int)Math.Min(ChunkBytes, tensor.ByteLength - at);
                    unsafe { stream.Write(new ReadOnlySpan<byte>(tensor.Pointer + at, n)); }
                }
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Magic, version, length and the dict padded to a multiple of 64 bytes, byte for byte as numpy
    /// (numpy/lib/format.py, _write_array_header and _wrap_header): numpy appends spaces after the
    /// dict so the first dimension can grow to 21 digits in place, then pads with spaces and a
    /// final '\n' by 64 - (prefix + text + 1) % 64 bytes (a full 64 when already aligned).
    /// </summary>
    internal static byte[] BuildHeader(NpyHeader header)
    {
        const int growthAxisMaxDigits = 21;
        string text = header.FormatDict();
        if (header.Shape.Length > 0)
            text += new string(' ', Math.Max(0, growthAxisMaxDigits - header.Shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture).Length));
        byte[] dict = Encoding.Latin1.GetBytes(text);
        int withNewline = dict.Length + 1;
        int Padding(int prefixBytes) => Alignment - (prefixBytes + withNewline) % Alignment;
        // Version 1.0 unless the header needs more than a uint16 length.
        int major = withNewline + Padding(10) <= ushort.MaxValue ? 1 : 2;
        int prefix = major == 1 ? 10 : 12;
        int headerLength = withNewline + Padding(prefix);
        var bytes = new byte[prefix + headerLength];
        NpyHeader.Magic.CopyTo(bytes);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        dict.CopyTo(bytes, prefix);
        bytes.AsSpan(prefix + dict.Length, headerLength - withNewline).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }
}
