using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Amalgam.Kernels;
using Microsoft.Win32.SafeHandles;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// Streams a safetensors file: all tensors are declared upfront (that fixes the header), then each
/// tensor's bytes are written whole (<see cref="Write(Tensor)"/>) or in chunks
/// (<see cref="WriteChunk"/>), in any order, so tensors larger than memory can stream through.
/// Layout follows the reference writer: the header is padded with spaces so the data starts
/// 8-byte aligned, and tensors are laid out contiguously (no holes, which the reference reader
/// rejects) sorted by element size, largest first (stable), so each tensor is aligned to its element
/// size. The header lists tensors in that data order, with <c>__metadata__</c> first.
/// Output goes to a temp file in the same folder, renamed on <see cref="Commit"/> (or on
/// <see cref="Dispose"/> once every tensor is complete); otherwise the temp file is deleted.
/// </summary>
public sealed unsafe class SafetensorsWriter : IDisposable
{
    private const int MaxChunk = 1 << 30;
    private readonly Dictionary<string, int> _indexOf = new(StringComparer.Ordinal);
    private readonly long[] _written;
    private readonly string _tempPath;
    private SafeFileHandle? _handle;
    private bool _committed;

    public SafetensorsWriter(string path, IEnumerable<SafetensorsDeclaration> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Path = path;
        var declared = tensors.ToList();
        foreach (var d in declared)
        {
            if (d.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot be a tensor name", nameof(tensors));
            if (!_indexOf.TryAdd(d.Name, _indexOf.Count)) throw new ArgumentException($"tensor '{d.Name}' is declared twice", nameof(tensors));
        }
        _indexOf.Clear();
        long offset = 0;
        var entries = new List<SafetensorsEntry>(declared.Count);
        foreach (var d in declared.OrderByDescending(d => d.DType.Size()))
        {
            long bytes = d.ByteLength;
            entries.Add(new SafetensorsEntry(d.Name, d.DType, d.Shape, offset, checked(offset + bytes)));
            _indexOf[d.Name] = entries.Count - 1;
            offset += bytes;
        }
        Entries = entries;
        _written = new long[entries.Count];
        byte[] header = BuildHeader(entries, metadata);
        DataStart = 8 + header.Length;
        FileLength = checked(DataStart + offset);

        _tempPath = AtomicFile.TempPathFor(path);
        _handle = File.OpenHandle(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        try
        {
            RandomAccess.SetLength(_handle, FileLength);
            Span<byte> prefix = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            RandomAccess.Write(_handle, prefix, 0);
            RandomAccess.Write(_handle, header, 8);
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>The final file path.</summary>
    public string Path { get; }

    /// <summary>The layout: tensors in data order with their byte ranges.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>Absolute offset of the data buffer; a multiple of 8.</summary>
    public long DataStart { get; }

    public long FileLength { get; }

    public bool IsComplete
    {
        get
        {
            for (int i = 0; i < _written.Length; i++)
                if (_written[i] != Entries[i].ByteLength) return false;
            return true;
        }
    }

    /// <summary>Writes a declared tensor's bytes whole; its dtype and shape must match the declaration.</summary>
    public void Write(Tensor tensor)
    {
        var e = Lookup(tensor.Name);
        if (tensor.DType != e.DType || !tensor.Shape.SequenceEqual(e.Shape.AsSpan()))
            throw new ArgumentException($"tensor '{tensor.Name}' is {tensor.DType.ShortName()} {Shapes.Format(tensor.Shape)} but was declared {e.DType.ShortName()} {Shapes.Format(e.Shape.AsSpan())}", nameof(tensor));
        if (_written[_indexOf[e.Name]] != 0) throw new InvalidOperationException($"tensor '{e.Name}' was already (partly) written");
        byte* p = tensor.Pointer;
        for (long done = 0; done < tensor.ByteLength;)
        {
            int n = (int)Math.Min(MaxChunk, tensor.ByteLength - done);
            WriteChunk(e.Name, new ReadOnlySpan<byte>(p + done, n));
            done += n;
        }
    }

    /// <summary>Appends the next bytes of a declared tensor. Throws if that would exceed its byte count.</summary>
    public void WriteChunk(string name, ReadOnlySpan<byte> bytes)
    {
        var e = Lookup(name);
        int i = _indexOf[name];
        if (bytes.Length > e.ByteLength - _written[i])
            throw new InvalidOperationException($"tensor '{name}': writing {bytes.Length} more bytes after {_written[i]} exceeds its {e.ByteLength} bytes");
        RandomAccess.Write(_handle!, bytes, DataStart + e.Begin + _written[i]);
        _written[i] += bytes.Length;
    }

    /// <summary>Flushes and renames the temp file to <see cref="Path"/>. Every tensor must be complete.</summary>
    public void Commit()
    {
        if (_committed) return;
        ObjectDisposedException.ThrowIf(_handle is null, this);
        for (int i = 0; i < _written.Length; i++)
            if (_written[i] != Entries[i].ByteLength)
                throw new InvalidOperationException($"{Path}: tensor '{Entries[i].Name}' has {_written[i]} of its {Entries[i].ByteLength} bytes written");
        try
        {
            RandomAccess.FlushToDisk(_handle);
            _handle.Dispose();
            _handle = null;
            File.Move(_tempPath, Path, overwrite: true);
            _committed = true;
        }
        catch
        {
            Abort();
            throw;
        }
    }

    /// <summary>Commits if every tensor is complete, otherwise deletes the temp file.</summary>
    public void Dispose()
    {
        if (_committed || _handle is null) return;
        if (IsComplete) Commit();
        else Abort();
    }

    /// <summary>Closes and deletes the temp file without committing (a no-op after Commit).</summary>
    internal void Abort()
    {
        if (_committed) return;
        _handle?.Dispose();
        _handle = null;
        AtomicFile.TryDelete(_tempPath);
    }

    private SafetensorsEntry Lookup(string name)
    {
        ObjectDisposedException.ThrowIf(_handle is null, this);
        return _indexOf.TryGetValue(name, out int i) ? Entries[i] : throw new ArgumentException($"tensor '{name}' was not declared", nameof(name));
    }

    /// <summary>Writes <paramref name="tensors"/> (and <paramref name="metadata"/>) to <paramref name="path"/>.</summary>
    public static void WriteAll(string path, IEnumerable<Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var w = new SafetensorsWriter(path, list.Select(SafetensorsDeclaration.Of), metadata);
        foreach (var t in list) w.Write(t);
        w.Commit();
    }

    /// <summary>The JSON header, space-padded to a multiple of 8 bytes (so the data starts 8-aligned).</summary>
    internal static byte[] BuildHeader(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.DType.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (long d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        byte[] header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }
}
