using System.Buffers.Binary;
using System.IO.Compression;
using Amalgam.Kernels;

namespace Amalgam.Engine.Data;

/// <summary>
/// Reader for IDX files (LeCun's MNIST format, also used by Fashion-MNIST), plain or gzip-compressed:
/// two zero bytes, a type byte, the number of dimensions, then each dimension as a big-endian
/// uint32, then the elements row-major. Only unsigned bytes (type 0x08) are supported: every
/// (Fashion-)MNIST file uses them. Anything malformed is a BadInputException naming the file.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByteType = 0x08;
    private const int MaxRank = 4;
    /// <summary>Bound on the elements of one file (1 GiB), far above Fashion-MNIST's 47 million.</summary>
    public const long MaxElements = 1L << 30;

    /// <summary>An IDX array: its dimensions and its bytes, row-major.</summary>
    public sealed record Contents(int[] Dims, byte[] Data);

    /// <summary>Reads the whole file; gzip is detected by its magic bytes, not by the file name.</summary>
    public static Contents Read(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            return ReadFrom(stream, path);
        }
        catch (InvalidDataException e) { throw new BadInputException($"{path}: not a valid gzip stream ({e.Message})", e); }
        catch (FileNotFoundException e) { throw new BadInputException($"{path}: file not found", e); }
        catch (DirectoryNotFoundException e) { throw new BadInputException($"{path}: file not found", e); }
    }

    private static Contents ReadFrom(Stream stream, string path)
    {
        Span<byte> header = stackalloc byte[4];
        ReadExactly(stream, header, path, "the 4-byte magic number");
        if (header[0] != 0 || header[1] != 0)
            throw new BadInputException($"{path}: not an IDX file (magic number {Convert.ToHexString(header)} does not start with 0000)");
        if (header[2] != UnsignedByteType)
            throw new BadInputException($"{path}: IDX element type 0x{header[2]:x2} is not supported (only unsigned byte, 0x08)");
        int rank = header[3];
        if (rank < 1 || rank > MaxRank)
            throw new BadInputException($"{path}: IDX file has {rank} dimensions (expected 1 to {MaxRank})");

        Span<byte> dimBytes = stackalloc byte[4 * MaxRank];
        ReadExactly(stream, dimBytes[..(4 * rank)], path, "the dimensions");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i, 4));
            if (d == 0 || d > MaxElements)
                throw new BadInputException($"{path}: IDX dimension {i} is {d} (expected 1 to {MaxElements})");
            count *= d;
            if (count > MaxElements)
                throw new BadInputException($"{path}: IDX array has more than {MaxElements} elements");
            dims[i] = (int)d;
        }

        var data = new byte[count];
        ReadExactly(stream, data, path, $"{count} data bytes for shape [{string.Join(", ", dims)}]");
        if (stream.ReadByte() >= 0)
            throw new BadInputException($"{path}: unexpected bytes after the {count} elements of shape [{string.Join(", ", dims)}]");
        return new Contents(dims, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        int got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
            throw new BadInputException($"{path}: truncated IDX file (ended while reading {what}: {got} of {buffer.Length} bytes)");
    }
}
