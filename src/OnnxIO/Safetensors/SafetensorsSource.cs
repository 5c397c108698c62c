using Amalgam.Kernels;

namespace Amalgam.OnnxIO.Safetensors;

/// <summary>Opens whatever a user points at as an <see cref="ISafetensorsSource"/>.</summary>
public static class SafetensorsSource
{
    /// <summary>
    /// <paramref name="path"/> is a <c>.safetensors</c> file, an index json
    /// (<c>*.safetensors.index.json</c> or any <c>.json</c>), or a folder holding
    /// <c>model.safetensors.index.json</c>, else <c>model.safetensors</c>, else exactly one index json,
    /// else exactly one <c>.safetensors</c> file.
    /// </summary>
    public static ISafetensorsSource Open(string path)
    {
        if (Directory.Exists(path)) return Open(PickInFolder(path));
        if (!File.Exists(path)) throw new BadInputException($"{path}: no such file or folder");
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? ShardedSafetensors.Open(path)
            : SafetensorsFile.Open(path);
    }

    private static string PickInFolder(string folder)
    {
        string index = System.IO.Path.Combine(folder, SafetensorsIndex.DefaultFileName);
        if (File.Exists(index)) return index;
        string single = System.IO.Path.Combine(folder, "model.safetensors");
        if (File.Exists(single)) return single;
        string[] indexes, files;
        try
        {
            indexes = Directory.GetFiles(folder, "*.safetensors.index.json");
            files = Directory.GetFiles(folder, "*.safetensors");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BadInputException($"{folder}: cannot list folder: {SafetensorsHeaderParser.OneLine(e.Message)}", e);
        }
        if (indexes.Length == 1) return indexes[0];
        if (indexes.Length > 1) throw new BadInputException($"{folder}: several safetensors index files; name one of them");
        if (files.Length == 1) return files[0];
        if (files.Length > 1) throw new BadInputException($"{folder}: several .safetensors files and no {SafetensorsIndex.DefaultFileName}; name one of them");
        throw new BadInputException($"{folder}: no .safetensors file or {SafetensorsIndex.DefaultFileName}");
    }
}
