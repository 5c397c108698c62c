using Amalgam.Engine.Data;
using Amalgam.Engine.Data.Tasks;
using Amalgam.Kernels;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// The images a zoo build trains on: each source data set (MNIST package, Fashion-MNIST) loaded once
/// per split (owned here), and seeded task subsets and the rotation-prediction set for pretraining
/// (owned by the caller).
/// </summary>
internal sealed class ZooData : IDisposable
{
    private readonly Dictionary<(ImageSource, Split), Dataset> _sources = [];

    public Dataset Source(ImageSource source, Split split)
    {
        if (!_sources.TryGetValue((source, split), out var d))
        {
            d = source == ImageSource.Mnist ? MnistPackage.Load(split) : FashionMnist.Load(split);
            _sources[(source, split)] = d;
        }
        return d;
    }

    /// <summary>Images in the task's split (before any subset).</summary>
    public int Count(TinyTask task, Split split) => Source(task.Source, split).Count;

    /// <summary>
    /// <paramref name="count"/> samples of the task's split drawn by a seeded permutation (cycling
    /// through fresh permutations when more are asked than the split holds), transformed and
    /// relabelled for the task. Only the chosen images are copied; the caller owns the result.
    /// </summary>
    public Dataset TaskSubset(TinyTask task, Split split, int count, ulong seed)
    {
        var source = Source(task.Source, split);
        var rng = new SeededRandom(seed);
        var indices = new int[count];
        var order = Enumerable.Range(0, source.Count).ToArray();
        for (int at = 0; at < count; at += order.Length)
        {
            Permute(order, rng);
            order.AsSpan(0, Math.Min(order.Length, count - at)).CopyTo(indices.AsSpan(at));
        }
        using var chosen = source.Select(indices);
        return task.Apply(chosen, split);
    }

    /// <summary>The task's whole split, transformed and relabelled; the caller owns the result.</summary>
    public Dataset Task(TinyTask task, Split split) => task.Apply(Source(task.Source, split), split);

    /// <summary>
    /// Rotation prediction (Gidaris et al. 2018): <paramref name="count"/> training images, half from
    /// each source, each turned by k quarter turns counter-clockwise with k uniform in 0..3 as its label.
    /// </summary>
    public Dataset Rotations(int count, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var mnist = Source(ImageSource.Mnist, Split.Train);
        var fashion = Source(ImageSource.FashionMnist, Split.Train);
        var images = Tensor.Allocate("images", DType.F32, [count, 28, 28], zero: false);
        var labels = Tensor.Allocate("labels", DType.I64, [count], zero: false);
        var px = images.Write<float>();
        var y = labels.Write<long>();
        for (int i = 0; i < count; i++)
        {
            var source = i % 2 == 0 ? mnist : fashion;
            var image = source.Image(rng.Below(source.Count));
            int k = rng.Below(4);
            Rotate(image, px.Slice(i * 784, 784), k);
            y[i] = k;
        }
        return new Dataset("rotations", images, labels, 4);
    }

    /// <summary>k quarter turns counter-clockwise of a 28x28 image (numpy.rot90(img, k)).</summary>
    internal static void Rotate(ReadOnlySpan<float> source, Span<float> destination, int k)
    {
        const int s = 28;
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++)
            {
                var (r, c) = (k & 3) switch
                {
                    0 => (i, j),
                    1 => (j, s - 1 - i),          // rot90: out[i, j] = in[j, W-1-i]
                    2 => (s - 1 - i, s - 1 - j),
                    _ => (s - 1 - j, i),
                };
                destination[i * s + j] = source[r * s + c];
            }
    }

    private static void Permute(int[] order, SeededRandom rng)
    {
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.Below(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    public void Dispose()
    {
        foreach (var d in _sources.Values) d.Dispose();
        _sources.Clear();
    }
}
