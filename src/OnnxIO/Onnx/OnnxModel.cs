using Amalgam.Kernels;
using Google.Protobuf;
using Onnx;

namespace Amalgam.OnnxIO.Onnx;

/// <summary>
/// An ONNX model (ModelProto) read from a file, with the folder its external data is relative to.
/// Everything we do not change round-trips: protobuf keeps fields this onnx.proto (onnx 1.12, IR 8)
/// does not know as unknown fields and writes them back.
/// </summary>
public sealed partial class OnnxModel
{
    /// <summary>Protobuf nesting limit. An ONNX subgraph costs three levels (graph, node, attribute),
    /// so 100 allows subgraphs about 30 deep; deeper input is rejected instead of overflowing the stack.</summary>
    public const int RecursionLimit = 100;

    /// <summary>Protobuf messages are limited to 2 GiB; bigger models keep weights in external data.</summary>
    public const long MaxModelFileBytes = int.MaxValue;

    public OnnxModel(ModelProto proto, string baseDirectory, string displayName = "(in memory)")
    {
        Proto = proto;
        BaseDirectory = Path.GetFullPath(string.IsNullOrEmpty(baseDirectory) ? "." : baseDirectory);
        DisplayName = displayName;
    }

    private readonly ExternalDataViews _externalFiles = new();

    /// <summary>The protobuf message itself, for edits this class has no method for.</summary>
    public ModelProto Proto { get; private set; }

    /// <summary>Folder that external data locations are relative to (the model file's folder).</summary>
    public string BaseDirectory { get; private set; }

    /// <summary>The file this model was read from or last saved to; used in error messages.</summary>
    public string DisplayName { get; private set; }

    public GraphProto Graph => Proto.Graph;

    /// <summary>Reads an ONNX file. Malformed protobuf, a missing graph, duplicate initializer names
    /// and external data that is missing, out of range or outside the folder throw BadInputException.
    /// The main graph's initializers' raw_data are views of the mapped file, not copies (<see cref="MappedModelReader"/>).</summary>
    public static OnnxModel Load(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            using var fs = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            if (MappedModelReader.TryRead(fs, full) is { } mapped)
            {
                var model = new OnnxModel(mapped, Path.GetDirectoryName(full)!, path);
                model.Validate();
                return model;
            }
            return Load(fs, Path.GetDirectoryName(full)!, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{path}: cannot read ONNX model ({e.Message})", e);
        }
    }

    /// <summary>Reads a model from a stream; <paramref name="baseDirectory"/> resolves external data and
    /// <paramref name="displayName"/> names the model in error messages.</summary>
    public static OnnxModel Load(Stream stream, string baseDirectory, string displayName)
    {
        long length = stream.CanSeek ? stream.Length - stream.Position : MaxModelFileBytes;
        if (length > MaxModelFileBytes)
            throw new BadInputException($"{displayName}: {length} bytes is over protobuf's 2 GiB limit for an ONNX file");
        ModelProto proto;
        try
        {
            // The size limit makes any length prefix that points past the end fail at once instead of
            // being read; the recursion limit bounds nesting (messages and groups alike).
            // Not disposed: that would close the caller's stream.
            var input = CodedInputStream.CreateWithLimits(stream, (int)Math.Max(length, 1), RecursionLimit);
            proto = ModelProto.Parser.ParseFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new BadInputException($"{displayName}: not a valid ONNX model ({OneLine(e.Message)})", e);
        }
        var model = new OnnxModel(proto, baseDirectory, displayName);
        model.Validate();
        return model;
    }

    /// <summary>Checks what later reads rely on, so problems surface at load with the file named.</summary>
    private void Validate()
    {
        if (Proto.Graph is null) throw new BadInputException($"{DisplayName}: ONNX model has no graph");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in Proto.Graph.Initializer)
            if (!names.Add(t.Name)) throw new BadInputException($"{DisplayName}: initializer '{t.Name}' appears twice");
        ExternalData.ValidateAll(Proto, DisplayName, BaseDirectory);
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> (temp file in the same folder, then renamed). With
    /// external data, tensors go to one data file beside it, written and renamed first. Afterwards this
    /// object refers to the saved files.
    /// </summary>
    public void Save(string path, OnnxSaveOptions? options = null)
    {
        options ??= OnnxSaveOptions.Auto;
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        var copy = Proto.Clone();   // edited for the file; this object changes only once both renames are done
        string? dataFile = null, dataTemp = null;
        string modelTemp = TempPath(full);
        try
        {
            if (UseExternalData(options))
            {
                string dataName = options.ExternalDataFileName ?? Path.GetFileName(full) + ".data";
                if (dataName.Length == 0 || dataName != Path.GetFileName(dataName) || dataName == "." || dataName == "..")
                    throw new ArgumentException($"external data file name '{dataName}' must be a plain file name", nameof(options));
                dataFile = Path.Combine(folder, dataName);
                dataTemp = TempPath(dataFile);
                ExternalDataWriter.Write(copy, dataTemp, dataName, options.ExternalDataThreshold ?? 1024, DisplayName, BaseDirectory);
            }
            else
            {
                InlineAll(copy);
            }
            using (var fs = new FileStream(modelTemp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                // 1 MiB writes straight to the file (protobuf's default stream buffer is 4 KiB, which the
                // FileStream then gathered into 64 KiB writes: 43k syscalls for 8 ViT-B/32 models).
                var output = new CodedOutputStream(fs, 1 << 20);
                copy.WriteTo(output);
                output.Flush();
                fs.Flush(flushToDisk: false);
            }
            if (dataTemp is not null) File.Move(dataTemp, dataFile!, overwrite: true);
            File.Move(modelTemp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(modelTemp)) File.Delete(modelTemp);
            if (dataTemp is not null && File.Exists(dataTemp)) File.Delete(dataTemp);
        }
        Proto = copy;
        _externalFiles.Forget();   // the saved model's external data is in the files just written
        BaseDirectory = folder;
        DisplayName = path;
    }

    /// <summary>Serialised model bytes with every tensor inline (external data read in); the model is unchanged.</summary>
    public byte[] ToInlineBytes()
    {
        var copy = Proto.Clone();
        InlineAll(copy);
        return copy.ToByteArray();
    }

    private bool UseExternalData(OnnxSaveOptions options)
    {
        if (options.ExternalDataThreshold is not null) return true;
        if (!options.AutoExternalData) return false;
        long inline = 0;
        foreach (var t in TensorWalk.AllTensors(Proto))
        {
            if (TensorProtoCodec.IsExternal(t)) return true;
            inline += t.RawData.Length;
        }
        return inline > OnnxSaveOptions.AutoInlineLimit;
    }

    /// <summary>Reads every external tensor into raw_data.</summary>
    private void InlineAll(ModelProto copy)
    {
        long total = 0;
        foreach (var t in TensorWalk.AllTensors(copy))
        {
            if (TensorProtoCodec.IsExternal(t))
            {
                long expected = OnnxDTypes.TryToDType(t.DataType, out _) ? TensorProtoCodec.Describe(t, DisplayName).ByteLength : -1;
                var ext = ExternalData.Resolve(t, DisplayName, BaseDirectory, expected);
                if (ext.Length > int.MaxValue)
                    throw new BadInputException($"{DisplayName}: tensor '{t.Name}' ({ext.Length} bytes) is too large to store inside an ONNX file; save with external data");
                var bytes = new byte[ext.Length];
                using (var ms = new MemoryStream(bytes)) ExternalData.CopyTo(ext, ms, DisplayName, t.Name);
                TensorProtoCodec.ClearValues(t);
                t.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
            }
            total += t.RawData.Length;
            if (total > MaxModelFileBytes)
                throw new BadInputException($"{DisplayName}: tensors total over 2 GiB, too large to store inside an ONNX file; save with external data");
        }
    }

    private static string TempPath(string target) =>
        Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    public override string ToString() => $"{DisplayName}: {Graph?.Node.Count ?? 0} nodes, {Graph?.Initializer.Count ?? 0} initializers";
}
