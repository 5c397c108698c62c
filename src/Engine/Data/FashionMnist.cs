using Amalgam.Kernels;

namespace Amalgam.Engine.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) from its four gzip'd IDX files: 60,000 training
/// and 10,000 test images of 28x28, ten garment classes, its own split.
/// </summary>
public static class FashionMnist
{
    public const int Side = 28;
    public const int TrainCount = 60_000;
    public const int TestCount = 10_000;

    /// <summary>Class names in label order (from the data set's README).</summary>
    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads a split from the folder found by <see cref="DataPaths.RequireFashionMnist"/>.</summary>
    public static Dataset Load(Split split) => Load(DataPaths.RequireFashionMnist(), split);

    /// <summary>Loads a split from <paramref name="dir"/>: images as f32 pixel/255, labels as i64.</summary>
    public static Dataset Load(string dir, Split split)
    {
        string prefix = split == Split.Train ? "train" : "t10k";
        string imagesPath = Path.Combine(dir, $"{prefix}-images-idx3-ubyte.gz");
        string labelsPath = Path.Combine(dir, $"{prefix}-labels-idx1-ubyte.gz");
        return FromIdx(IdxFile.Read(imagesPath), imagesPath, IdxFile.Read(labelsPath), labelsPath,
            ClassNames.Length, $"fashion-mnist/{split.ToString().ToLowerInvariant()}");
    }

    /// <summary>Checks an images/labels pair of IDX arrays and converts them to a <see cref="Dataset"/>.</summary>
    internal static Dataset FromIdx(IdxFile.Contents images, string imagesPath, IdxFile.Contents labels, string labelsPath, int classCount, string name)
    {
        if (images.Dims.Length != 3)
            throw new BadInputException($"{imagesPath}: expected an IDX image array [N, rows, cols], got {images.Dims.Length} dimensions");
        if (labels.Dims.Length != 1)
            throw new BadInputException($"{labelsPath}: expected an IDX label vector [N], got {labels.Dims.Length} dimensions");
        int n = images.Dims[0], rows = images.Dims[1], cols = images.Dims[2];
        if (labels.Dims[0] != n)
            throw new BadInputException($"{labelsPath}: {labels.Dims[0]} labels for {n} images in {Path.GetFileName(imagesPath)}");
        for (int i = 0; i < n; i++)
            if (labels.Data[i] >= classCount)
                throw new BadInputException($"{labelsPath}: label {labels.Data[i]} of item {i} is not in [0, {classCount})");

        var imageTensor = Tensor.Allocate("images", DType.F32, [n, rows, cols], zero: false);
        var labelTensor = Tensor.Allocate("labels", DType.I64, [n], zero: false);
        var pixels = imageTensor.Write<float>();
        // Exact division: every byte b maps to the float nearest b/255, and round(x*255) recovers b.
        for (int i = 0; i < pixels.Length; i++) pixels[i] = images.Data[i] / 255f;
        var y = labelTensor.Write<long>();
        for (int i = 0; i < n; i++) y[i] = labels.Data[i];
        return new Dataset(name, imageTensor, labelTensor, classCount);
    }
}
