using Amalgam.Engine.LayerInputs;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Methods.Cat;
using Amalgam.Engine.Training;
using Amalgam.Kernels.Blas;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.LayerInputs;

/// <summary>Features from ONNX Runtime against the hand-written f64 forward pass of <see cref="CatNet"/>.</summary>
public class FeatureCollectorTests
{
    [TestCase(14)]
    [TestCase(17)]
    public void FindsLinearOpsWithOrientationAndTheLayerNorm(int opset)
    {
        using var dir = Fixtures.NewTempDir();
        CatNet.Save(dir.File("m.onnx"), opset, CatNet.RandomParams(new Random(1)));
        var model = OnnxModel.Load(dir.File("m.onnx"));
        var graph = FeatureGraph.Find(model, CatNet.Params.Select(p => p.Name).ToHashSet());
        Assert.That(graph.Linears.Select(l => (l.Weight, l.DIn, l.DOut, l.StoredTransposed)),
            Is.EqualTo(new[] { ("W1", 6, 5, false), ("W2", 5, 4, true), ("W3", 4, 3, true) }));
        Assert.That(graph.Norms, Has.Count.EqualTo(1));
        Assert.That(graph.Norms[0].Scale, Is.EqualTo("g1"));
        Assert.That(graph.Norms[0].Bias, Is.EqualTo("b1"));
        Assert.That(graph.Norms[0].IsNormalized, Is.EqualTo(opset < 17));
        // Private (not shared) weights are not analysed.
        var without = FeatureGraph.Find(model, new HashSet<string> { "W1", "g1" });
        Assert.That(without.Linears.Select(l => l.Weight), Is.EqualTo(new[] { "W1" }));
    }

    [TestCase(14, 1)]
    [TestCase(17, 1)]
    [TestCase(17, 3)]
    public void GramsAndNormSquaresMatchAnF64ForwardPass(int opset, int batchSize)
    {
        using var dir = Fixtures.NewTempDir();
        var rng = new Random(opset);
        var p = CatNet.RandomParams(rng);
        CatNet.Save(dir.File("m.onnx"), opset, p);
        var x = CatNet.SaveData(dir.File("x.npy"), 7, rng);
        var model = OnnxModel.Load(dir.File("m.onnx"));
        var graph = FeatureGraph.Find(model, CatNet.Params.Select(q => q.Name).ToHashSet());
        using var data = SampleData.Load(model, dir.File("x.npy"));
        FeatureStats stats;
        int previous = OpenBlas.ThreadCount;
        using (BlasThreadPin.One())
            stats = FeatureCollector.Collect(model, graph, data.Inputs, 5, new FeatureRequest(true, true, true), batchSize);
        Assert.That(OpenBlas.ThreadCount, Is.EqualTo(previous));

        var act = CatNet.Forward(p, x, 5);
        AssertClose(stats.Grams["W1"], CatNet.Gram(act.A));
        AssertClose(stats.Grams["W2"], CatNet.Gram(act.Y1));
        AssertClose(stats.Grams["W3"], CatNet.Gram(act.Y2));
        Assert.That(stats.Tokens["W1"], Is.EqualTo(15));
        Assert.That(stats.Rows("W2"), Has.Length.EqualTo(15 * 5));
        var expected = Enumerable.Range(0, 6).Select(d => Enumerable.Range(0, 15).Average(r => act.XHat[r, d] * act.XHat[r, d])).ToArray();
        Assert.That(stats.NormSquares["g1"], Is.EqualTo(expected).Within(1e-5));
    }

    private static void AssertClose(double[] actual, double[,] expected)
    {
        int d = expected.GetLength(0);
        double scale = 0;
        foreach (double v in expected) scale = Math.Max(scale, Math.Abs(v));
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                Assert.That(actual[i * d + j], Is.EqualTo(expected[i, j]).Within(2e-6 * scale), $"({i}, {j})");
    }
}

/// <summary>The torch-exported fixtures: opset 14 (decomposed layer norm) and 17 give the same ops, and ORT runs them with the extra outputs.</summary>
public class FixtureFeatureTests
{
    [TestCase("vit_tiny")]
    [TestCase("clip_tiny")]
    [TestCase("roberta_tiny")]
    public void Opset14And17ExportsShowTheSameLinearOpsAndLayerNorms(string name)
    {
        var found = new[] { 14, 17 }.Select(opset =>
        {
            var model = OnnxModel.Load(Fixtures.Onnx($"{name}_op{opset}"));
            var shared = model.ListInitializers().Where(i => i.DType == Amalgam.Kernels.DType.F32).Select(i => i.Name).ToHashSet();
            var graph = FeatureGraph.Find(model, shared);
            // The io file names the inputs "input.<name>".
            using var io = Amalgam.OnnxIO.Safetensors.SafetensorsFile.Open(Fixtures.Io($"{name}_op{opset}"));
            var inputs = ModelInput.Of(model).ToDictionary(i => i.Name, i =>
            {
                using var mapped = io.Get("input." + i.Name);
                return mapped.Clone(i.Name);
            });
            FeatureStats stats;
            try
            {
                using (BlasThreadPin.One())
                    stats = FeatureCollector.Collect(model, graph, inputs, 1, new FeatureRequest(true, false, true));
            }
            finally
            {
                foreach (var t in inputs.Values) t.Dispose();
            }
            foreach (var norm in graph.Norms)
                Assert.That(stats.NormSquares[norm.Scale].Average(), Is.EqualTo(1).Within(0.05), $"{norm.Scale}: x_hat has unit mean square per token");
            return (Linears: graph.Linears.Select(l => (l.DIn, l.DOut)).OrderBy(x => x).ToList(), Norms: graph.Norms.Count, Grams: stats.Grams.Count);
        }).ToList();
        Assert.That(found[0].Linears, Is.Not.Empty);
        Assert.That(found[0].Norms, Is.GreaterThan(0));
        Assert.That(found[1].Linears, Is.EqualTo(found[0].Linears));
        Assert.That(found[1].Norms, Is.EqualTo(found[0].Norms));
    }
}
