using Amalgam.Kernels;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// Shape of the CLIP-style ViT image tower for 28x28 grey images: patches of <see cref="Patch"/>
/// pixels embedded to <see cref="Width"/>, a class token, <see cref="Depth"/> pre-LN blocks with
/// <see cref="Heads"/> attention heads and a QuickGELU MLP of <see cref="MlpRatio"/> x width, then
/// ln_post and a projection to <see cref="EmbedDim"/> features; a linear head maps those to
/// <see cref="Classes"/> logits.
/// </summary>
public sealed record VitConfig(int Width, int Depth, int Heads, int EmbedDim, int Patch = 7, int MlpRatio = 4, int Classes = 10, int ImageSide = 28)
{
    /// <summary>"tiny" (CI, about 30k parameters), "small" (default, about 0.2M), "base" (about 2M).</summary>
    public static VitConfig Preset(string size) => size switch
    {
        "tiny" => new VitConfig(Width: 32, Depth: 2, Heads: 2, EmbedDim: 32),
        "small" => new VitConfig(Width: 64, Depth: 4, Heads: 4, EmbedDim: 64),
        "base" => new VitConfig(Width: 128, Depth: 10, Heads: 4, EmbedDim: 128),
        _ => throw new BadInputException($"unknown zoo size '{size}' (known: tiny, small, base)"),
    };

    public int GridSide => ImageSide / Patch;
    public int PatchCount => GridSide * GridSide;
    /// <summary>Patches plus the class token.</summary>
    public int Tokens => PatchCount + 1;
    public int HeadDim => Width / Heads;
    public int MlpWidth => Width * MlpRatio;

    public void Validate()
    {
        if (Width < 1 || Depth < 1 || Heads < 1 || EmbedDim < 1 || Patch < 1 || MlpRatio < 1 || Classes < 1)
            throw new ArgumentException($"ViT config {this}: every size must be at least 1");
        if (Width % Heads != 0) throw new ArgumentException($"ViT config {this}: width must be a multiple of heads");
        if (ImageSide % Patch != 0) throw new ArgumentException($"ViT config {this}: the patch size must divide the image side");
    }
}
