using System.Globalization;
using Amalgam.Kernels;
using Microsoft.Win32.SafeHandles;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>Where an external tensor's bytes are: a file inside the model's folder and a byte range.</summary>
internal readonly record struct ExternalRef(string FullPath, long Offset, long Length);

/// <summary>
/// Reads ONNX external data references (onnx docs/ExternalData.md): a tensor with
/// data_location = EXTERNAL lists key/value entries "location" (path relative to the model file's
/// folder), "offset" and "length" (bytes; offset defaults to 0, length to the rest of the file),
/// and optionally "checksum" (ignored). The path must stay inside the model's folder.
/// </summary>
internal static class ExternalData
{
    /// <summary>Checks the reference and returns its file and range; throws BadInputException naming
    /// the model file and tensor. <paramref name="expectedLength"/> is the byte size the shape
    /// needs, or -1 when unknown (an element type we do not decode).</summary>
    public static ExternalRef Resolve(TensorProto t, string file, string baseDirectory, long expectedLength)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (var entry in t.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseNonNegative(entry.Value, "offset", t, file); break;
                case "length": length = ParseNonNegative(entry.Value, "length", t, file); break;
            }
        }
        if (string.IsNullOrEmpty(location))
            throw new BadInputException($"{file}: external tensor '{t.Name}' has no location");
        string fullPath = InsideFolder(location, baseDirectory, t, file);
        long fileLength;
        try
        {
            fileLength = new FileInfo(fullPath).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{file}: external data '{location}' of tensor '{t.Name}' cannot be read ({e.Message})", e);
        }
        if (offset > fileLength)
            throw new BadInputException($"{file}: external tensor '{t.Name}' starts at byte {offset} of '{location}', which has {fileLength} bytes");
        if (length < 0) length = fileLength - offset;
        if (length > fileLength - offset)
            throw new BadInputException($"{file}: external tensor '{t.Name}' ({length} bytes at {offset}) runs past the end of '{location}' ({fileLength} bytes)");
        if (expectedLength >= 0 && length != expectedLength)
            throw new BadInputException($"{file}: external tensor '{t.Name}' has {length} bytes, its shape needs {expectedLength}");
        return new ExternalRef(fullPath, offset, length);
    }

    /// <summary>Checks every external tensor of the model (sizes checked for dtypes we know).</summary>
    public static void ValidateAll(ModelProto model, string file, string baseDirectory)
    {
        foreach (var t in TensorWalk.AllTensors(model))
        {
            if (!TensorProtoCodec.IsExternal(t)) continue;
            long expected = -1;
            if (OnnxDTypes.TryToDType(t.DataType, out _)) expected = TensorProtoCodec.Describe(t, file).ByteLength;
            Resolve(t, file, baseDirectory, expected);
        }
    }

    /// <summary>Relative, no "..", no rooted path, and after resolution still inside the folder.</summary>
    private static string InsideFolder(string location, string baseDirectory, TensorProto t, string file)
    {
        string root = Path.GetFullPath(string.IsNullOrEmpty(baseDirectory) ? "." : baseDirectory);
        bool escapes = Path.IsPathRooted(location) || location.Contains('\0')
            || location.Split('/', '\\').Any(part => part == "..");
        string full = escapes ? "" : Path.GetFullPath(Path.Combine(root, location));
        string rootWithSep = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        if (escapes || !full.StartsWith(rootWithSep, StringComparison.Ordinal))
            throw new BadInputException($"{file}: external data location '{location}' of tensor '{t.Name}' is outside the model's folder");
        return full;
    }

    private static long ParseNonNegative(string text, string key, TensorProto t, string file)
    {
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            throw new BadInputException($"{file}: external tensor '{t.Name}' has an invalid {key} '{text}'");
        return v;
    }

    /// <summary>Reads the referenced bytes into <paramref name="destination"/> (ext.Length bytes).</summary>
    public static unsafe void ReadInto(ExternalRef ext, byte* destination, string file, string tensorName)
    {
        try
        {
            using SafeFileHandle h = File.OpenHandle(ext.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            long done = 0;
            while (done < ext.Length)
            {
                int chunk = (int)Math.Min(ext.Length - done, 1 << 30);
                int n = RandomAccess.Read(h, new Span<byte>(destination + done, chunk), ext.Offset + done);
                if (n == 0) throw new EndOfStreamException($"'{ext.FullPath}' ended early");
                done += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{file}: external data of tensor '{tensorName}' cannot be read ({e.Message})", e);
        }
    }

    /// <summary>Copies the referenced bytes to <paramref name="output"/>.</summary>
    public static void CopyTo(ExternalRef ext, Stream output, string file, string tensorName)
    {
        try
        {
            using var input = new FileStream(ext.FullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            input.Seek(ext.Offset, SeekOrigin.Begin);
            var buffer = new byte[1 << 20];
            long left = ext.Length;
            while (left > 0)
            {
                int n = input.Read(buffer, 0, (int)Math.Min(left, buffer.Length));
                if (n == 0) throw new EndOfStreamException($"'{ext.FullPath}' ended early");
                output.Write(buffer, 0, n);
                left -= n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{file}: external data of tensor '{tensorName}' cannot be read ({e.Message})", e);
        }
    }
}
