using Amalgam.Kernels;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// Read-only mappings of a model's external data files, one per file, so its external tensors can be views
/// (as inline raw_data of a mapped model file is, see <see cref="TensorProtoCodec.TryView"/>). A mapping is
/// made on the first view of a tensor in that file and kept; a file whose length or modification time changed
/// since (another save renamed a new file over it) is mapped again. Views hold their mapping: forgetting one
/// here unmaps it only once its last view is disposed. Thread-safe.
/// </summary>
internal sealed class ExternalDataViews
{
    private readonly record struct Mapping(MappedFileStorage Storage, long Length, DateTime WrittenUtc);

    private readonly Dictionary<string, Mapping> _byPath = new(StringComparer.Ordinal);

    /// <summary>A view of an external tensor's bytes, or null when <paramref name="t"/> is not external, on
    /// Windows (a mapped file cannot be replaced there, and saves replace files), or when the file cannot be
    /// mapped (the caller then copies, reporting any read error itself). Sizes are checked as in
    /// <see cref="TensorProtoCodec.Decode"/>.</summary>
    public Tensor? TryView(TensorProto t, string file, string baseDirectory)
    {
        if (!TensorProtoCodec.IsExternal(t) || OperatingSystem.IsWindows()) return null;
        var (dtype, shape, bytes) = TensorProtoCodec.Describe(t, file);
        var ext = ExternalData.Resolve(t, file, baseDirectory, bytes);
        lock (_byPath)
        {
            if (MappingOf(ext.FullPath) is not { } storage || storage.ByteLength < ext.Offset + ext.Length) return null;
            return Tensor.View(t.Name, dtype, shape, storage, ext.Offset);
        }
    }

    /// <summary>Drops every mapping (after a save, the model refers to other files); views keep theirs.</summary>
    public void Forget()
    {
        lock (_byPath)
        {
            foreach (var m in _byPath.Values) m.Storage.Dispose();
            _byPath.Clear();
        }
    }

    private MappedFileStorage? MappingOf(string fullPath)
    {
        FileInfo info;
        try
        {
            info = new FileInfo(fullPath);
            if (!info.Exists) return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }

        if (_byPath.TryGetValue(fullPath, out var cached))
        {
            if (cached.Length == info.Length && cached.WrittenUtc == info.LastWriteTimeUtc) return cached.Storage;
            cached.Storage.Dispose();
            _byPath.Remove(fullPath);
        }
        try
        {
            using var fs = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
            if (!fs.CanSeek) return null;   // a pipe or device: read, not mapped
            var storage = new MappedFileStorage(fs, fullPath);
            _byPath[fullPath] = new Mapping(storage, storage.ByteLength, info.LastWriteTimeUtc);
            return storage;
        }
        catch (Exception e) when (e is IOException or NotSupportedException or UnauthorizedAccessException) { return null; }
    }
}
