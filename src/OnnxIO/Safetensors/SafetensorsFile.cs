using System.Buffers.Binary;
using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>
/// A safetensors file, memory-mapped: opening reads and validates only the header; tensors are
/// zero-copy views of the mapping (<see cref="Get"/>). Views stay valid after this object is
/// disposed (they hold a reference to the mapping) until they are disposed themselves.
/// </summary>
public sealed unsafe class SafetensorsFile : ISafetensorsSource
{
    private readonly MappedFileStorage _storage;
    private readonly Dictionary<string, SafetensorsEntry> _byName;
    private bool _disposed;

    private SafetensorsFile(string path, MappedFileStorage storage, long dataStart,
        List<SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        _storage = storage;
        DataStart = dataStart;
        Entries = entries;
        Names = entries.Select(e => e.Name).ToArray();
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>Absolute file offset of the data buffer (8 + header length).</summary>
    public long DataStart { get; }

    /// <summary>Tensor entries in header order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    public IReadOnlyList<string> Names { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Maps and validates <paramref name="path"/>; throws <see cref="BadInputException"/> naming the file on any problem.</summary>
    public static SafetensorsFile Open(string path)
    {
        MappedFileStorage storage;
        try
        {
            storage = new MappedFileStorage(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new BadInputException($"{path}: cannot open safetensors file: {SafetensorsHeaderParser.OneLine(e.Message)}", e);
        }
        try
        {
            long length = storage.ByteLength;
            if (length < 8) throw SafetensorsHeaderParser.Bad(path, $"file is {length} bytes, shorter than the 8-byte header length");
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(storage.Pointer, 8));
            if (n > SafetensorsHeaderParser.MaxHeaderBytes)
                throw SafetensorsHeaderParser.Bad(path, $"header length {n} exceeds the {SafetensorsHeaderParser.MaxHeaderBytes}-byte limit");
            if ((long)n > length - 8)
                throw SafetensorsHeaderParser.Bad(path, $"header length {n} runs past the end of the {length}-byte file");
            long dataStart = 8 + (long)n;
            var header = new ReadOnlySpan<byte>(storage.Pointer + 8, (int)n);
            var (entries, metadata) = SafetensorsHeaderParser.Parse(header, length - dataStart, path);
            return new SafetensorsFile(path, storage, dataStart, entries, metadata);
        }
        catch
        {
            storage.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        _byName.TryGetValue(name, out var e) ? e : throw SafetensorsHeaderParser.Bad(Path, $"no tensor {SafetensorsHeaderParser.Quote(name)}");

    public Tensor Get(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var e = Entry(name);
        return Tensor.View(e.Name, e.DType, e.Shape.AsSpan(), _storage, DataStart + e.Begin);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _storage.Dispose();
    }
}
