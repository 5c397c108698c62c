using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amalgam.Engine.Data;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// Where a zoo lives: <c>&lt;cache&gt;/&lt;size&gt;-&lt;key&gt;</c>, the key a hash of every option
/// that changes the files (size, tasks, seed, budget, test-set size) and <see cref="FormatVersion"/>
/// (bump it whenever the builder's output changes). A zoo is built in a temporary sibling folder and
/// renamed into place, so a folder that exists is complete.
/// </summary>
internal static class ZooCache
{
    public const int FormatVersion = 2;   // 2: heads with each task's own class count
    public const string ManifestName = "zoo.json";

    public static string Root(ZooOptions o) => o.CacheDir ?? Path.Combine(DataPaths.CacheDir, "zoo");

    /// <summary>Also hashes the resolved tower shape and step counts, so retuning a preset invalidates old zoos.</summary>
    public static string Key(ZooOptions o, IReadOnlyList<string> tasks, VitConfig config, ZooBudget budget)
    {
        string text = string.Create(CultureInfo.InvariantCulture,
            $"amalgam-zoo|v{FormatVersion}|size={o.Size}|tasks={string.Join(",", tasks)}|seed={o.Seed}|budget={o.Budget:R}|test={o.TestSamples}|{config}|{budget}");
        return KeyOf(text);
    }

    /// <summary>A cache key: the first 16 hex digits of the SHA-256 of <paramref name="options"/> (every option that changes a zoo's files, as text).</summary>
    public static string KeyOf(string options) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(options)))[..16];

    public static string Folder(ZooOptions o, IReadOnlyList<string> tasks, VitConfig config, ZooBudget budget) =>
        Path.Combine(Root(o), $"{o.Size}-{Key(o, tasks, config, budget)}");

    public static string BaseFile(string folder) => Path.Combine(folder, "base.onnx");
    public static string PretrainedFile(string folder, string task) => Path.Combine(folder, "pretrained", task + ".onnx");
    public static string FineTunedFile(string folder, string task) => Path.Combine(folder, "finetuned", task + ".onnx");
    public static string TestInputsFile(string folder, string task) => Path.Combine(folder, "data", task + ".test.images.npy");
    public static string TestLabelsFile(string folder, string task) => Path.Combine(folder, "data", task + ".test.labels.npy");

    /// <summary>True when <paramref name="folder"/> holds a finished zoo for these tasks.</summary>
    public static bool IsComplete(string folder, IReadOnlyList<string> tasks) =>
        File.Exists(Path.Combine(folder, ManifestName)) && File.Exists(BaseFile(folder)) &&
        tasks.All(t => File.Exists(PretrainedFile(folder, t)) && File.Exists(FineTunedFile(folder, t))
            && File.Exists(TestInputsFile(folder, t)) && File.Exists(TestLabelsFile(folder, t)));

    /// <summary>
    /// Builds into a temporary sibling of <paramref name="folder"/> and renames it into place, unless
    /// <paramref name="isComplete"/> already holds; a damaged folder (files deleted by hand) is replaced,
    /// and another process finishing the same zoo first wins (its files are the same). Returns true
    /// when this call built it.
    /// </summary>
    public static bool BuildOnce(string folder, Func<string, bool> isComplete, Action<string> build)
    {
        if (isComplete(folder)) return false;
        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        string temp = $"{folder}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            build(temp);
            if (Directory.Exists(folder) && !isComplete(folder)) Directory.Delete(folder, recursive: true);
            try
            {
                Directory.Move(temp, folder);
            }
            catch (IOException) when (isComplete(folder))
            {
            }
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return true;
    }
}
