using Amalgam.Engine.Evaluation;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Evaluation;

/// <summary>
/// <see cref="Evaluator.Evaluate"/> against float64 references: a tiny Gemm-Tanh-Gemm classifier
/// recomputed in C# double, and the CLIP-style fixture against torch's own logits and cross-entropy.
/// </summary>
public sealed class EvaluatorTests
{
    private sealed record Setup(string Model, string Data, string Labels, double[][] X, long[] Y, TanhMlp Mlp);

    private static Setup Make(Fixtures.TempDir dir, int n = 40, int seed = 11)
    {
        var mlp = new TanhMlp(seed, scale: 1.5);
        mlp.Save(dir.File("m.onnx"));
        var x = TanhMlp.Inputs(n, seed + 1, dir.File("x.npy"));
        var rng = new Random(seed + 2);
        // Half the labels are the model's own prediction, so accuracy is neither 0 nor 1.
        var y = x.Select(xi => rng.Next(2) == 0 ? TanhMlp.ArgMax(TanhMlp.Logits(mlp.P, xi)) : (long)rng.Next(TanhMlp.Classes)).ToArray();
        TanhMlp.WriteLabels(dir.File("y.npy"), y);
        return new Setup(dir.File("m.onnx"), dir.File("x.npy"), dir.File("y.npy"), x, y, mlp);
    }

    [Test]
    public void AccuracyLossAndPerClassMatchTheFloat64Forward()
    {
        using var dir = Fixtures.NewTempDir();
        var s = Make(dir);
        var r = Evaluator.Evaluate(s.Model, s.Data, s.Labels, batchSize: 7);

        double loss = 0;
        long correct = 0;
        var count = new long[TanhMlp.Classes];
        var hits = new long[TanhMlp.Classes];
        for (int i = 0; i < s.X.Length; i++)
        {
            var z = TanhMlp.Logits(s.Mlp.P, s.X[i]);
            loss -= TanhMlp.LogProb(z, (int)s.Y[i]);
            count[s.Y[i]]++;
            if (TanhMlp.ArgMax(z) == s.Y[i]) { correct++; hits[s.Y[i]]++; }
        }
        Assert.That(correct, Is.GreaterThan(0).And.LessThan(s.X.Length));
        Assert.That(r.Count, Is.EqualTo(s.X.Length));
        Assert.That(r.ClassCount, Is.EqualTo(TanhMlp.Classes));
        Assert.That(r.Correct, Is.EqualTo(correct));
        Assert.That(r.Accuracy, Is.EqualTo((double)correct / s.X.Length));
        Assert.That(r.Loss, Is.EqualTo(loss / s.X.Length).Within(1e-5 * Math.Abs(loss / s.X.Length)));
        Assert.That(r.PerClassCount, Is.EqualTo(count));
        Assert.That(r.PerClassCorrect, Is.EqualTo(hits));
        for (int c = 0; c < TanhMlp.Classes; c++) Assert.That(r.PerClassAccuracy[c], Is.EqualTo((double)hits[c] / count[c]));
    }

    [Test]
    public void BatchSizeAndThreadsDoNotChangeTheResult()
    {
        using var dir = Fixtures.NewTempDir();
        var s = Make(dir, n: 33);
        var one = Evaluator.Evaluate(s.Model, s.Data, s.Labels, batchSize: 5, threads: 1);
        foreach (var (b, t) in new[] { (5, 2), (5, 3), (1, 2), (64, 1) })
        {
            var r = Evaluator.Evaluate(s.Model, s.Data, s.Labels, batchSize: b, threads: t);
            Assert.That(BitConverter.DoubleToInt64Bits(r.Loss), Is.EqualTo(BitConverter.DoubleToInt64Bits(one.Loss)), $"batch {b}, threads {t}");
            Assert.That(r.Correct, Is.EqualTo(one.Correct));
        }
    }

    [Test]
    public void ClipFixtureMatchesTorchCrossEntropy()
    {
        using var dir = Fixtures.NewTempDir();
        const string name = "clip_tiny_op17";
        using var io = SafetensorsFile.Open(Fixtures.Io(name));
        using var grad = SafetensorsFile.Open(Fixtures.File(name + ".grad.safetensors"));
        using (var pixels = io.Get("input.pixel_values"))
        using (var copy = pixels.Clone("pixel_values"))
            SafetensorsWriter.WriteAll(dir.File("x.safetensors"), [copy]);
        using var labels = grad.Get("labels");
        TanhMlp.WriteLabels(dir.File("y.npy"), labels.Read<long>().ToArray());
        using var torchLoss = grad.Get("xent.loss");
        using var torchLogits = io.Get("output.logits");

        var r = Evaluator.Evaluate(Fixtures.Onnx(name), dir.File("x.safetensors"), dir.File("y.npy"));
        Assert.That(r.Count, Is.EqualTo(2));
        Assert.That(r.ClassCount, Is.EqualTo(10));
        Assert.That(r.Loss, Is.EqualTo(torchLoss.Read<double>()[0]).Within(1e-5));
        var z = torchLogits.Read<float>();
        long correct = 0;
        for (int i = 0; i < 2; i++)
        {
            var row = z.Slice(i * 10, 10).ToArray();
            if (Array.IndexOf(row, row.Max()) == labels.Read<long>()[i]) correct++;
        }
        Assert.That(r.Correct, Is.EqualTo(correct));
        Assert.That(r.PerClassCount.Sum(), Is.EqualTo(2));
        Assert.That(double.IsNaN(r.PerClassAccuracy[0]), Is.True, "class 0 has no samples");
    }

    [Test]
    public void JsonHasOneEntryPerClassAndNullForEmptyClasses()
    {
        using var dir = Fixtures.NewTempDir();
        var s = Make(dir, n: 6);
        TanhMlp.WriteLabels(s.Labels, [0, 0, 1, 1, 0, 1]);
        var r = Evaluator.Evaluate(s.Model, s.Data, s.Labels);
        using var doc = System.Text.Json.JsonDocument.Parse(r.ToJson());
        var root = doc.RootElement;
        Assert.That(root.GetProperty("samples").GetInt64(), Is.EqualTo(6));
        Assert.That(root.GetProperty("classes").GetInt32(), Is.EqualTo(3));
        Assert.That(root.GetProperty("accuracy").GetDouble(), Is.EqualTo(r.Accuracy));
        Assert.That(root.GetProperty("loss").GetDouble(), Is.EqualTo(r.Loss));
        var perClass = root.GetProperty("per_class");
        Assert.That(perClass.GetArrayLength(), Is.EqualTo(3));
        Assert.That(perClass[2].GetProperty("samples").GetInt64(), Is.EqualTo(0));
        Assert.That(perClass[2].GetProperty("accuracy").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        Assert.That(perClass[0].GetProperty("samples").GetInt64() + perClass[1].GetProperty("samples").GetInt64(), Is.EqualTo(6));
    }

    [Test]
    public void BadInputNamesTheFileOrOption()
    {
        using var dir = Fixtures.NewTempDir();
        var s = Make(dir, n: 5);
        void Bad(string contains, Action act)
        {
            var e = Assert.Throws<BadInputException>(() => act())!;
            Assert.That(e.Message, Does.Contain(contains).And.Not.Contain("\n"));
        }
        TanhMlp.WriteLabels(dir.File("four.npy"), [0, 1, 2, 0]);
        Bad("four.npy", () => Evaluator.Evaluate(s.Model, s.Data, dir.File("four.npy")));
        TanhMlp.WriteLabels(dir.File("range.npy"), [0, 1, 2, 3, 0]);
        Bad("range.npy", () => Evaluator.Evaluate(s.Model, s.Data, dir.File("range.npy")));
        TanhMlp.WriteLabels(dir.File("neg.npy"), [0, -1, 2, 1, 0]);
        Bad("neg.npy", () => Evaluator.Evaluate(s.Model, s.Data, dir.File("neg.npy")));
        TanhMlp.WriteLabels(dir.File("2d.npy"), [0, 1, 2, 1, 0, 0], [3, 2]);
        Bad("2d.npy", () => Evaluator.Evaluate(s.Model, s.Data, dir.File("2d.npy")));
        Bad("missing.onnx", () => Evaluator.Evaluate(dir.File("missing.onnx"), s.Data, s.Labels));
        Bad("missing.npy", () => Evaluator.Evaluate(s.Model, dir.File("missing.npy"), s.Labels));
        Bad("nolabels.npy", () => Evaluator.Evaluate(s.Model, s.Data, dir.File("nolabels.npy")));
        using (var wrong = Tensor.Allocate("x", DType.F32, [5, 7])) Amalgam.Engine.Data.Npy.NpyFile.Write(dir.File("wide.npy"), wrong);
        Bad("wide.npy", () => Evaluator.Evaluate(s.Model, dir.File("wide.npy"), s.Labels));
        Bad("--batch-size", () => Evaluator.Evaluate(s.Model, s.Data, s.Labels, batchSize: 0));
        File.WriteAllText(dir.File("x.txt"), "");
        Bad("x.txt", () => Evaluator.Evaluate(s.Model, dir.File("x.txt"), s.Labels));
    }
}
