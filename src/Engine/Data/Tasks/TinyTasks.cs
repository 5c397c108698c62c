using Amalgam.Kernels;

namespace Amalgam.Engine.Data.Tasks;

/// <summary>
/// The eight TinyTasks-8 tasks of issue 8, in this order. Class orders (the class index is the
/// position in the list):
/// <list type="bullet">
/// <item><c>mnist</c>, <c>mnist-inverted</c>: digits 0..9.</item>
/// <item><c>fashion</c>, <c>fashion-flip</c>, <c>fashion-rot90</c>: the Fashion-MNIST labels 0..9.</item>
/// <item><c>mnist-parity</c>: 0 even, 1 odd (digit mod 2).</item>
/// <item><c>fashion-group</c>: 0 tops {T-shirt/top 0, pullover 2, coat 4, shirt 6}, 1 bottoms
///   {trouser 1, dress 3}, 2 footwear {sandal 5, sneaker 7, ankle boot 9}, 3 bag {8}.</item>
/// <item><c>mnist-loops</c>: 0 no closed loop {1, 2, 3, 5, 7}, 1 loop {0, 4, 6, 8, 9}.</item>
/// </list>
/// <c>fashion-flip</c> mirrors top to bottom; <c>fashion-rot90</c> turns a quarter counter-clockwise
/// (numpy.rot90); <c>mnist-inverted</c> uses 1 - x.
/// </summary>
public static class TinyTasks
{
    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    private static readonly int[] Identity = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

    public static readonly IReadOnlyList<TinyTask> All =
    [
        new("mnist", ImageSource.Mnist, ImageTransform.None, Digits, Identity, "digit"),
        new("fashion", ImageSource.FashionMnist, ImageTransform.None, FashionMnist.ClassNames, Identity, "garment"),
        new("mnist-parity", ImageSource.Mnist, ImageTransform.None, ["even", "odd"],
            [0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "even or odd digit"),
        new("fashion-group", ImageSource.FashionMnist, ImageTransform.None, ["tops", "bottoms", "footwear", "bag"],
            // T-shirt, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot
            [0, 1, 0, 1, 0, 2, 0, 2, 3, 2], "garment group: tops / bottoms / footwear / bag"),
        new("mnist-inverted", ImageSource.Mnist, ImageTransform.Invert, Digits, Identity, "digit of inverted (1 - x) images"),
        new("fashion-flip", ImageSource.FashionMnist, ImageTransform.FlipUpsideDown, FashionMnist.ClassNames, Identity, "garment of upside-down images"),
        new("mnist-loops", ImageSource.Mnist, ImageTransform.None, ["no loop", "loop"],
            [1, 0, 0, 0, 1, 0, 1, 0, 1, 1], "digit with a closed loop {0, 4, 6, 8, 9} or not"),
        new("fashion-rot90", ImageSource.FashionMnist, ImageTransform.Rotate90CounterClockwise, FashionMnist.ClassNames, Identity,
            "garment of images turned 90 degrees counter-clockwise"),
    ];

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    /// <summary>The task called <paramref name="name"/>; BadInputException listing the names otherwise.</summary>
    public static TinyTask Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new BadInputException($"unknown task '{name}' (known: {string.Join(", ", Names)})");
}
