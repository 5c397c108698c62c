using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Zoo;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Tests.Zoo;

public class VitTowerGraphTests
{
    private static readonly VitConfig Small = new(Width: 8, Depth: 2, Heads: 2, EmbedDim: 6, Patch: 7);
    private static readonly SessionSettings OneThread = new() { IntraOpThreads = 1 };

    /// <summary>Every initializer the tiny preset should have, from the architecture's definition.</summary>
    private static Dictionary<string, long[]> ExpectedShapes(VitConfig c, int classes)
    {
        long d = c.Width, m = c.MlpWidth;
        var e = new Dictionary<string, long[]>
        {
            ["conv1.weight"] = [d, 1, c.Patch, c.Patch], ["class_embedding"] = [d], ["positional_embedding"] = [c.Tokens, d],
            ["ln_pre.weight"] = [d], ["ln_pre.bias"] = [d], ["ln_post.weight"] = [d], ["ln_post.bias"] = [d],
            ["proj"] = [d, c.EmbedDim], ["head.weight"] = [classes, c.EmbedDim], ["head.bias"] = [classes],
        };
        for (int i = 0; i < c.Depth; i++)
        {
            string b = $"blocks.{i}";
            foreach (string ln in new[] { "ln_1", "ln_2" }) { e[$"{b}.{ln}.weight"] = [d]; e[$"{b}.{ln}.bias"] = [d]; }
            foreach (string pr in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) { e[$"{b}.attn.{pr}.weight"] = [d, d]; e[$"{b}.attn.{pr}.bias"] = [d]; }
            e[$"{b}.mlp.c_fc.weight"] = [d, m]; e[$"{b}.mlp.c_fc.bias"] = [m];
            e[$"{b}.mlp.c_proj.weight"] = [m, d]; e[$"{b}.mlp.c_proj.bias"] = [d];
        }
        return e;
    }

    [Test]
    public void TinyPresetHasExactlyTheCLIPTowerInitializers()
    {
        var c = VitConfig.Preset("tiny");
        var model = VitTowerGraph.Create(c, 1, "head", 7);
        var actual = model.ListInitializers().ToDictionary(i => i.Name, i => i.Shape.ToArray());
        var expected = ExpectedShapes(c, 7);
        Assert.That(actual.Keys.Order(), Is.EqualTo(expected.Keys.Order()));
        foreach (var (name, shape) in expected) Assert.That(actual[name], Is.EqualTo(shape), name);
        Assert.That(model.ListInitializers().All(i => i.DType == DType.F32));
        Assert.That(ZooBuilder.ParameterCount(c, 7), Is.EqualTo(expected.Values.Sum(s => s.Aggregate(1L, (a, b) => a * b))));
        // The tower alone (what is merged): everything but the head's 7 x (E + 1).
        Assert.That(ZooBuilder.ParameterCount(c), Is.EqualTo(ZooBuilder.ParameterCount(c, 7) - 7 * (c.EmbedDim + 1)));
    }

    [TestCase("tiny", 20_000, 50_000)]
    [TestCase("small", 200_000, 500_000)]
    [TestCase("base", 1_500_000, 2_500_000)]
    public void PresetSizes(string size, long min, long max) =>
        Assert.That(ZooBuilder.ParameterCount(VitConfig.Preset(size)), Is.InRange(min, max));

    [Test]
    public void SameSeedSameInitialisationOtherSeedOther()
    {
        var a = VitTowerGraph.Create(Small, 7).ToInlineBytes();
        var b = VitTowerGraph.Create(Small, 7).ToInlineBytes();
        var other = VitTowerGraph.Create(Small, 8).ToInlineBytes();
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Is.Not.EqualTo(other));
    }

    [Test]
    public void ForwardMatchesFloat64Reference()
    {
        var (model, values) = RandomModel(Small, 3);
        var images = RandomImages(3, 5);
        using var session = OnnxSession.FromBytes(model.ToInlineBytes(), OneThread);
        using var x = Tensor.Allocate("image", DType.F32, [3, 1, 28, 28]);
        for (int i = 0; i < images.Length; i++) x.Write<float>()[i] = (float)images[i];
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["image"] = x }, ["logits"]);
        var actual = outputs[0].Read<float>().ToArray();
        var expected = new VitReference(Small, values).Logits(images, 3, Small.Classes).SelectMany(r => r).ToArray();
        double scale = expected.Max(Math.Abs), worst = actual.Select((a, i) => Math.Abs(a - expected[i])).Max();
        Assert.That(scale, Is.GreaterThan(0.1), "logits too small for the comparison to mean anything");
        Assert.That(worst / scale, Is.LessThanOrEqualTo(1e-5));
    }

    [Test]
    public void FeatureGraphGivesTheProjectedClassToken()
    {
        var (model, values) = RandomModel(Small, 4);
        var features = VitTowerGraph.Create(Small, 0, headName: null);
        foreach (var name in values.Keys.Where(n => !n.StartsWith("head.", StringComparison.Ordinal)))
        {
            using var t = model.ReadInitializer(name);
            features.ReplaceInitializer(name, t);
        }
        var images = RandomImages(2, 6);
        using var session = OnnxSession.FromBytes(features.ToInlineBytes(), OneThread);
        using var x = Tensor.Allocate("image", DType.F32, [2, 1, 28, 28]);
        for (int i = 0; i < images.Length; i++) x.Write<float>()[i] = (float)images[i];
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["image"] = x }, [VitTowerGraph.FeaturesName]);
        var actual = outputs[0].Read<float>().ToArray();
        var reference = new VitReference(Small, values);
        var expected = Enumerable.Range(0, 2).SelectMany(i => reference.Features(images.AsSpan(i * 784, 784).ToArray())).ToArray();
        double scale = expected.Max(Math.Abs), worst = actual.Select((a, i) => Math.Abs(a - expected[i])).Max();
        Assert.That(worst / scale, Is.LessThanOrEqualTo(1e-5));
    }

    /// <summary>Autodiff gradients (float32, ONNX Runtime) of the mean cross-entropy against central
    /// differences of the float64 reference, on a spread of entries of a few parameters.</summary>
    [Test]
    public void AutodiffGradientsMatchFiniteDifferences()
    {
        var (model, values) = RandomModel(Small, 5);
        int n = 2;
        var images = RandomImages(n, 9);
        long[] labels = [3, 7];
        string[] checkedParams = ["conv1.weight", "class_embedding", "positional_embedding", "ln_pre.weight", "blocks.0.attn.q_proj.weight",
            "blocks.0.attn.v_proj.bias", "blocks.1.mlp.c_fc.weight", "blocks.1.ln_2.bias", "ln_post.weight", "proj", "head.weight"];
        var request = new GradientRequest(checkedParams, new Dictionary<string, long[]> { ["image"] = [n, 1, 28, 28] }, GradientLoss.CrossEntropy);
        using var session = GradientSession.Create(model, request, OneThread);
        for (int i = 0; i < images.Length; i++) session.Inputs["image"].Write<float>()[i] = (float)images[i];
        labels.AsSpan().CopyTo(session.Inputs["labels"].Write<long>());
        double loss = session.Step();

        double Loss()
        {
            var logits = new VitReference(Small, values).Logits(images, n, Small.Classes);
            return logits.Select((row, i) => { double m = row.Max(); return Math.Log(row.Sum(v => Math.Exp(v - m))) + m - row[labels[i]]; }).Average();
        }
        Assert.That(loss, Is.EqualTo(Loss()).Within(1e-5 * Math.Max(1, Math.Abs(loss))), "loss");

        const double h = 1e-5;
        foreach (string p in checkedParams)
        {
            var analytic = session.Gradients[p].Read<float>().ToArray();
            var theta = values[p];
            double scale = analytic.Max(v => Math.Abs((double)v));
            Assert.That(scale, Is.GreaterThan(1e-4), $"{p}: gradient is zero, nothing checked");
            foreach (int i in new[] { 0, theta.Length / 3, theta.Length / 2, theta.Length - 1, Array.IndexOf(analytic, analytic.MaxBy(Math.Abs)) }.Distinct())
            {
                double v = theta[i];
                theta[i] = v + h;
                double plus = Loss();
                theta[i] = v - h;
                double minus = Loss();
                theta[i] = v;
                double fd = (plus - minus) / (2 * h);
                Assert.That(Math.Abs(analytic[i] - fd), Is.LessThanOrEqualTo(2e-3 * scale), $"{p}[{i}]");
            }
        }
    }

    /// <summary>The tower with every parameter random (LayerNorm gains near 1), and the same values as float64.</summary>
    internal static (OnnxModel Model, Dictionary<string, double[]> Values) RandomModel(VitConfig c, int seed)
    {
        var model = VitTowerGraph.Create(c, (ulong)seed);
        var rng = new Random(seed);
        var values = new Dictionary<string, double[]>();
        foreach (var init in model.ListInitializers())
        {
            using var t = model.ReadInitializer(init.Name);
            using var copy = t.Clone();
            var span = copy.Write<float>();
            bool gain = init.Name.EndsWith("ln_1.weight") || init.Name.EndsWith("ln_2.weight") || init.Name is "ln_pre.weight" or "ln_post.weight";
            long fanIn = init.Shape.Length == 2 ? init.Shape[0] : 8;
            for (int i = 0; i < span.Length; i++)
                span[i] = (float)(gain ? 1 + (rng.NextDouble() - 0.5) * 0.6 : (rng.NextDouble() * 2 - 1) * 1.5 / Math.Sqrt(fanIn));
            values[init.Name] = span.ToArray().Select(v => (double)v).ToArray();
            model.ReplaceInitializer(init.Name, copy);
        }
        return (model, values);
    }

    internal static double[] RandomImages(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * 784).Select(_ => (double)(float)rng.NextDouble()).ToArray();
    }
}
