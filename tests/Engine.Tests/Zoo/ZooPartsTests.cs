using Amalgam.Engine.Data.Tasks;
using Amalgam.Engine.Zoo;

namespace Amalgam.Engine.Tests.Zoo;

public class ZooPartsTests
{
    [Test]
    public void RotationIsKQuarterTurnsOfTheTaskTransform([Values(0, 1, 2, 3)] int k)
    {
        var rng = new Random(k);
        var image = Enumerable.Range(0, 784).Select(_ => (float)rng.NextDouble()).ToArray();
        var expected = (float[])image.Clone();
        for (int i = 0; i < k; i++)
        {
            var next = new float[784];
            ImageTransforms.Apply(ImageTransform.Rotate90CounterClockwise, expected, next, 28, 28);
            expected = next;
        }
        var actual = new float[784];
        ZooData.Rotate(image, actual, k);
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void ScheduleWarmsUpThenDecaysToZero()
    {
        const long total = 150;
        const float peak = 2e-3f;
        var lr = Enumerable.Range(1, (int)total).Select(s => ZooBuilder.LearningRate(s, total, peak)).ToArray();
        Assert.That(lr[0], Is.EqualTo(peak / 15).Within(1e-9));           // warmup = total / 10 = 15 steps
        Assert.That(lr[14], Is.EqualTo(peak));
        Assert.That(lr.Max(), Is.EqualTo(peak));
        for (int i = 15; i < lr.Length; i++) Assert.That(lr[i], Is.LessThanOrEqualTo(lr[i - 1]), $"step {i + 1}");
        Assert.That(lr[^1], Is.EqualTo(0).Within(1e-9));
    }

    /// <summary>Three Gaussian blobs in 4-d, probed with 10 outputs: the fit separates them, classes
    /// 3..9 (never seen) never win, and the folded-back standardisation reproduces its own predictions.</summary>
    [Test]
    public void ProbeSeparatesBlobsAndNeverPicksUnusedClasses()
    {
        var rng = new Random(3);
        const int n = 600, dim = 4;
        double[][] centres = [[3, 0, 0, 10], [0, 3, 0, 10], [0, 0, 3, 10]];
        var features = new float[n * dim];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 3;
            for (int j = 0; j < dim; j++) features[i * dim + j] = (float)(centres[i % 3][j] + Gaussian(rng) * (j == 3 ? 0.01 : 0.7));
        }
        var (w, b, accuracy) = LinearProbe.Fit(features, labels, dim, 10, 200);
        Assert.That(accuracy, Is.GreaterThan(0.95));
        int unused = 0;
        for (int i = 0; i < n; i++)
        {
            int arg = 0;
            double best = double.NegativeInfinity;
            for (int c = 0; c < 10; c++)
            {
                double s = b[c];
                for (int j = 0; j < dim; j++) s += (double)w[c * dim + j] * features[i * dim + j];
                if (s > best) { best = s; arg = c; }
            }
            if (arg >= 3) unused++;
        }
        Assert.That(unused, Is.Zero);
        Assert.That(LinearProbe.Accuracy(features, labels, dim, 10, w, b), Is.EqualTo(accuracy));
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
