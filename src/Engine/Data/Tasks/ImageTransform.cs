namespace Amalgam.Engine.Data.Tasks;

/// <summary>What a task does to each source image before the model sees it.</summary>
public enum ImageTransform
{
    /// <summary>The image as it is.</summary>
    None,
    /// <summary>x -> 1 - x (white digit on black becomes black on white).</summary>
    Invert,
    /// <summary>Upside down: row r becomes row H-1-r (a top-bottom mirror, numpy.flipud; not a 180-degree turn).</summary>
    FlipUpsideDown,
    /// <summary>A quarter turn counter-clockwise, as numpy.rot90(img) and torch.rot90(img, 1, (0, 1)): out[i, j] = in[j, W-1-i].</summary>
    Rotate90CounterClockwise,
}

/// <summary>The image transforms over one row-major H x W image.</summary>
public static class ImageTransforms
{
    /// <summary>Height and width of the transformed image (a quarter turn swaps them).</summary>
    public static (int Height, int Width) OutputSize(ImageTransform transform, int height, int width) =>
        transform == ImageTransform.Rotate90CounterClockwise ? (width, height) : (height, width);

    /// <summary>Writes the transformed <paramref name="source"/> (H x W) to <paramref name="destination"/>; they must not overlap.</summary>
    public static void Apply(ImageTransform transform, ReadOnlySpan<float> source, Span<float> destination, int height, int width)
    {
        int n = checked(height * width);
        if (source.Length != n || destination.Length != n)
            throw new ArgumentException($"a {height}x{width} image needs {n} values (source {source.Length}, destination {destination.Length})");
        switch (transform)
        {
            case ImageTransform.None:
                source.CopyTo(destination);
                break;
            case ImageTransform.Invert:
                for (int i = 0; i < n; i++) destination[i] = 1f - source[i];
                break;
            case ImageTransform.FlipUpsideDown:
                for (int r = 0; r < height; r++)
                    source.Slice((height - 1 - r) * width, width).CopyTo(destination.Slice(r * width, width));
                break;
            case ImageTransform.Rotate90CounterClockwise:
                // Output is W rows of H: out[i, j] = in[j, W-1-i].
                for (int i = 0; i < width; i++)
                    for (int j = 0; j < height; j++)
                        destination[i * height + j] = source[j * width + (width - 1 - i)];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(transform), transform, null);
        }
    }
}
