using Amalgam.Kernels;

namespace Amalgam.Engine.Checkpoints;

/// <summary>Opens whatever a user points at as a checkpoint, choosing the reader by extension.</summary>
public static class Checkpoint
{
    /// <summary>
    /// <c>.onnx</c>: an ONNX model's initializers. <c>.safetensors</c>, <c>.json</c> (a shard index) or
    /// a folder: a safetensors checkpoint. Anything else, or a missing path, is a
    /// <see cref="BadInputException"/> naming the path.
    /// </summary>
    public static ICheckpoint Open(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new BadInputException("empty model path");
        bool isFolder = Directory.Exists(path);
        if (!isFolder && !File.Exists(path)) throw new BadInputException($"{path}: no such file or folder");
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && !isFolder) return OnnxCheckpoint.Open(path);
        if (isFolder || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return SafetensorsCheckpoint.Open(path);
        throw new BadInputException($"{path}: unknown model format (expected .onnx, .safetensors, a safetensors index .json or a folder)");
    }

    /// <summary>The files a checkpoint reads, as full paths.</summary>
    public static IEnumerable<string> Files(ICheckpoint c) => c switch
    {
        SafetensorsCheckpoint s => s.Files(),
        OnnxCheckpoint o => o.Files(),
        _ => [System.IO.Path.GetFullPath(c.Path)],
    };
}
