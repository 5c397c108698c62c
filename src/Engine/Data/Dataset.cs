using Amalgam.Kernels;

namespace Amalgam.Engine.Data;

/// <summary>
/// Labelled grey-scale images: <see cref="Images"/> f32 [N, H, W] with values in [0, 1] and
/// <see cref="Labels"/> i64 [N] with values in [0, <see cref="ClassCount"/>). Owns both tensors.
/// </summary>
public sealed class Dataset : IDisposable
{
    /// <summary>Takes ownership of <paramref name="images"/> and <paramref name="labels"/>; checks shapes and label range.</summary>
    public Dataset(string name, Tensor images, Tensor labels, int classCount)
    {
        if (images.DType != DType.F32 || images.Rank != 3)
            throw new ArgumentException($"dataset '{name}': images must be f32 [N, H, W], got {images}");
        if (labels.DType != DType.I64 || labels.Rank != 1 || labels.Shape[0] != images.Shape[0])
            throw new ArgumentException($"dataset '{name}': labels must be i64 [{images.Shape[0]}], got {labels}");
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        foreach (long y in labels.Read<long>())
            if (y < 0 || y >= classCount)
                throw new ArgumentException($"dataset '{name}': label {y} outside [0, {classCount})");
        Name = name;
        Images = images;
        Labels = labels;
        ClassCount = classCount;
    }

    public string Name { get; }
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public int ClassCount { get; }
    public int Count => checked((int)Images.Shape[0]);
    public int Height => checked((int)Images.Shape[1]);
    public int Width => checked((int)Images.Shape[2]);
    public int PixelsPerImage => Height * Width;

    /// <summary>Image <paramref name="index"/>, row-major H x W.</summary>
    public ReadOnlySpan<float> Image(int index) => Images.Read<float>((long)index * PixelsPerImage, PixelsPerImage);

    public long Label(int index) => Labels.Read<long>(index, 1)[0];

    /// <summary>Number of images of each class.</summary>
    public int[] ClassHistogram()
    {
        var counts = new int[ClassCount];
        foreach (long y in Labels.Read<long>()) counts[y]++;
        return counts;
    }

    /// <summary>
    /// Copies the images and labels at <paramref name="indices"/>, in that order, into caller-owned
    /// buffers (a mini-batch without allocation): <paramref name="images"/> holds indices.Length * H * W floats.
    /// </summary>
    public void Gather(ReadOnlySpan<int> indices, Span<float> images, Span<long> labels)
    {
        int pixels = PixelsPerImage;
        if (images.Length != indices.Length * pixels || labels.Length != indices.Length)
            throw new ArgumentException($"a batch of {indices.Length} needs {indices.Length * pixels} image values and {indices.Length} labels, got {images.Length} and {labels.Length}");
        var allLabels = Labels.Read<long>();
        for (int k = 0; k < indices.Length; k++)
        {
            Image(indices[k]).CopyTo(images.Slice(k * pixels, pixels));
            labels[k] = allLabels[indices[k]];
        }
    }

    /// <summary>A new dataset of the images at <paramref name="indices"/>, in that order (copies).</summary>
    public Dataset Select(ReadOnlySpan<int> indices, string? name = null)
    {
        var images = Tensor.Allocate("images", DType.F32, [indices.Length, Height, Width], zero: false);
        var labels = Tensor.Allocate("labels", DType.I64, [indices.Length], zero: false);
        Gather(indices, images.Write<float>(), labels.Write<long>());
        return new Dataset(name ?? Name, images, labels, ClassCount);
    }

    public override string ToString() => $"{Name}: {Count} images {Height}x{Width}, {ClassCount} classes";

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
