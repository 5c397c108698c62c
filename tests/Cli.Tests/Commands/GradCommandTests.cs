using Amalgam.Engine.Data.Npy;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>
/// `amalgam grad` on the CLIP-style fixture: the written gradients against torch autograd (saved by
/// make_fixtures.py for the same two inputs, labels and loss), the batch size not changing the mean
/// gradient, and bad input failing with exit 2, one line, and no output.
/// </summary>
public sealed class GradCommandTests
{
    private const string Name = "clip_tiny_op17";
    private const string Input = "pixel_values";

    /// <summary>Per tensor: max |ours - torch| / max(max |torch|, 1% of the largest gradient of the model) (as the fixture gradient tests).</summary>
    private const double Tolerance = 1e-4;

    [TestCase("entropy", ".npy", 1)]
    [TestCase("entropy", ".npy", 2)]
    [TestCase("xent", ".safetensors", 1)]
    [TestCase("xent", ".safetensors", 32)]
    public void GradientsMatchTorchAutograd(string loss, string format, int batchSize)
    {
        using var dir = Fixtures.NewTempDir();
        string data = WriteInputs(dir, format, Original());
        var args = new List<string> { "grad", "--model", Fixtures.Onnx(Name), "--data", data, "--loss", loss, "--batch-size", batchSize.ToString(), "--out", dir.File("g.safetensors") };
        using var reference = SafetensorsFile.Open(Fixtures.File(Name + ".grad.safetensors"));
        if (loss == "xent")
        {
            using var labels = reference.Get("labels");
            NpyFile.Write(dir.File("labels.npy"), labels);
            args.AddRange(["--labels", dir.File("labels.npy")]);
        }
        var (exit, _, err) = CliHarness.Run([.. args]);
        Assert.That(exit, Is.Zero, err);

        using var got = SafetensorsFile.Open(dir.File("g.safetensors"));
        var floats = OnnxModel.Load(Fixtures.Onnx(Name)).ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
        Assert.That(got.Names, Is.EquivalentTo(floats), "one gradient per float initializer, named like it");
        var errors = new List<(string Name, double MaxDiff, double MaxRef)>();
        foreach (string p in floats)
        {
            using var g = got.Get(p);
            using var w = reference.Get($"{loss}.grad.{p}");
            Assert.That(g.ShapeArray(), Is.EqualTo(w.ShapeArray()), p);
            var gv = g.Read<float>();
            var wv = w.Read<float>();
            double maxRef = 0, maxDiff = 0;
            for (int i = 0; i < wv.Length; i++)
            {
                maxRef = Math.Max(maxRef, Math.Abs(wv[i]));
                maxDiff = Math.Max(maxDiff, Math.Abs(gv[i] - wv[i]));
            }
            errors.Add((p, maxDiff, maxRef));
        }
        double floor = 0.01 * errors.Max(e => e.MaxRef);
        Assert.That(floor, Is.GreaterThan(0));
        foreach (var (p, maxDiff, maxRef) in errors)
            Assert.That(maxDiff / Math.Max(maxRef, floor), Is.LessThanOrEqualTo(Tolerance), p);
    }

    /// <summary>
    /// Five samples (the two fixture images and three mixtures of them) in batches of 1 (five
    /// single-sample passes), 2 and 3 (remainders of 1 and 2) and 5 (one pass): the same mean gradient
    /// up to float32 rounding, for a mean loss and for the summed one (sumsq, per sample).
    /// </summary>
    [TestCase("entropy")]
    [TestCase("sumsq")]
    [TestCase("xent")]
    public void BatchSizeDoesNotChangeTheMeanGradient(string loss)
    {
        using var dir = Fixtures.NewTempDir();
        var x = Original();
        int per = x.Length / 2;
        var five = new float[5 * per];
        for (int i = 0; i < per; i++)
        {
            float a = x[i], b = x[per + i];
            five[i] = a;
            five[per + i] = b;
            five[2 * per + i] = 0.5f * (a + b);
            five[3 * per + i] = 0.8f * a - 0.3f * b;
            five[4 * per + i] = -b;
        }
        string data = WriteInputs(dir, ".npy", five);
        using (var labels = Tensor.Allocate("labels", DType.I64, [5]))
        {
            long[] values = [3, 0, 9, 3, 7];
            values.CopyTo(labels.Write<long>());
            NpyFile.Write(dir.File("labels.npy"), labels);
        }
        var results = new Dictionary<int, Dictionary<string, double[]>>();
        foreach (int batch in new[] { 1, 2, 3, 5 })
        {
            string o = dir.File($"g{batch}.safetensors");
            string[] extra = loss == "xent" ? ["--labels", dir.File("labels.npy")] : [];
            var (exit, _, err) = CliHarness.Run(["grad", "--model", Fixtures.Onnx(Name), "--data", data, "--loss", loss, "--batch-size", batch.ToString(), "--out", o, .. extra]);
            Assert.That(exit, Is.Zero, err);
            using var f = SafetensorsFile.Open(o);
            results[batch] = f.Names.ToDictionary(n => n, n => { using var t = f.Get(n); return t.Read<float>().ToArray().Select(v => (double)v).ToArray(); });
        }
        var one = results[1];
        double scale = one.Values.Max(v => v.Max(Math.Abs));
        Assert.That(scale, Is.GreaterThan(0));
        foreach (int batch in new[] { 2, 3, 5 })
        {
            Assert.That(results[batch].Keys, Is.EquivalentTo(one.Keys));
            foreach (var (p, want) in one)
            {
                double maxRef = Math.Max(want.Max(Math.Abs), 0.01 * scale);
                double maxDiff = want.Zip(results[batch][p], (a, b) => Math.Abs(a - b)).Max();
                Assert.That(maxDiff / maxRef, Is.LessThanOrEqualTo(1e-4), $"batch {batch}: {p}");
            }
        }
    }

    /// <summary>A two-input model with int64 inputs (token ids and attention mask) fed from one .safetensors file.</summary>
    [Test]
    public void MultiInputModelFromSafetensorsMatchesTorch()
    {
        const string roberta = "roberta_tiny_op17";
        using var dir = Fixtures.NewTempDir();
        using (var io = SafetensorsFile.Open(Fixtures.Io(roberta)))
        {
            var inputs = io.Names.Where(n => n.StartsWith("input.", StringComparison.Ordinal)).Select(n => { using var t = io.Get(n); return t.Clone(n["input.".Length..]); }).ToList();
            Assert.That(inputs.Select(t => t.Name), Is.EquivalentTo(new[] { "input_ids", "attention_mask" }));
            SafetensorsWriter.WriteAll(dir.File("data.safetensors"), inputs);
            foreach (var t in inputs) t.Dispose();
        }
        using var reference = SafetensorsFile.Open(Fixtures.File(roberta + ".grad.safetensors"));
        using (var labels = reference.Get("labels")) NpyFile.Write(dir.File("labels.npy"), labels);
        var (exit, _, err) = CliHarness.Run("grad", "--model", Fixtures.Onnx(roberta), "--data", dir.File("data.safetensors"), "--labels", dir.File("labels.npy"),
            "--loss", "xent", "--batch-size", "1", "--out", dir.File("g.safetensors"));
        Assert.That(exit, Is.Zero, err);
        using var got = SafetensorsFile.Open(dir.File("g.safetensors"));
        var errors = got.Names.Select(p =>
        {
            using var g = got.Get(p);
            using var w = reference.Get($"xent.grad.{p}");
            var gv = g.Read<float>();
            var wv = w.Read<float>();
            double maxRef = 0, maxDiff = 0;
            for (int i = 0; i < wv.Length; i++)
            {
                maxRef = Math.Max(maxRef, Math.Abs(wv[i]));
                maxDiff = Math.Max(maxDiff, Math.Abs(gv[i] - wv[i]));
            }
            return (p, maxDiff, maxRef);
        }).ToList();
        Assert.That(errors, Has.Count.GreaterThan(10));
        double floor = 0.01 * errors.Max(e => e.maxRef);
        foreach (var (p, maxDiff, maxRef) in errors)
            Assert.That(maxDiff / Math.Max(maxRef, floor), Is.LessThanOrEqualTo(Tolerance), p);
    }

    /// <summary>A model whose batch axis is fixed at 2 runs in batches of 2 whatever --batch-size says, and needs whole batches.</summary>
    [Test]
    public void AFixedBatchAxisSetsTheBatchSize()
    {
        using var dir = Fixtures.NewTempDir();
        var model = OnnxModel.Load(Fixtures.Onnx(Name));
        var dim = model.Graph.Input.Single(i => i.Name == Input).Type.TensorType.Shape.Dim[0];
        dim.DimValue = 2;
        model.Save(dir.File("fixed.onnx"));
        var x = Original();
        string four = WriteInputs(dir, ".npy", [.. x, .. x.Select(v => 0.5f * v)]);
        var (exit, _, err) = CliHarness.Run("grad", "--model", dir.File("fixed.onnx"), "--data", four, "--loss", "entropy", "--batch-size", "3", "--out", dir.File("fixed.safetensors"));
        Assert.That(exit, Is.Zero, err);
        (exit, _, err) = CliHarness.Run("grad", "--model", Fixtures.Onnx(Name), "--data", four, "--loss", "entropy", "--batch-size", "4", "--out", dir.File("dynamic.safetensors"));
        Assert.That(exit, Is.Zero, err);
        using (var a = SafetensorsFile.Open(dir.File("fixed.safetensors")))
        using (var b = SafetensorsFile.Open(dir.File("dynamic.safetensors")))
        {
            Assert.That(a.Names, Is.EquivalentTo(b.Names));
            double scale = b.Names.Max(n => { using var t = b.Get(n); return t.Read<float>().ToArray().Max(Math.Abs); });
            foreach (string n in b.Names)
            {
                using var ta = a.Get(n);
                using var tb = b.Get(n);
                var va = ta.Read<float>().ToArray();
                var vb = tb.Read<float>().ToArray();
                double maxRef = Math.Max(vb.Max(Math.Abs), 0.01 * scale);
                Assert.That(va.Zip(vb, (p, q) => Math.Abs(p - q)).Max() / maxRef, Is.LessThanOrEqualTo(1e-4), n);
            }
        }

        string three = WriteInputs(dir, ".npy", [.. x, .. x[..(3 * 28 * 28)]]);
        (exit, _, err) = CliHarness.Run("grad", "--model", dir.File("fixed.onnx"), "--data", three, "--loss", "entropy", "--out", dir.File("odd.safetensors"));
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(err.Trim(), Does.Contain("data.npy").And.Contain("fixed batch size of 2").And.Not.Contain("\n"));
        Assert.That(File.Exists(dir.File("odd.safetensors")), Is.False);
    }

    [Test]
    public void WorkerThreadsDoNotChangeABit()
    {
        using var dir = Fixtures.NewTempDir();
        var x = Original();
        string data = WriteInputs(dir, ".npy", [.. x, .. x.Select(v => -v), .. x.Select(v => 0.5f * v)]);
        var files = new List<byte[]>();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            string o = dir.File($"g{threads}.safetensors");
            var (exit, _, err) = CliHarness.Run("grad", "--model", Fixtures.Onnx(Name), "--data", data, "--loss", "entropy", "--batch-size", "1", "--threads", threads.ToString(), "--out", o);
            Assert.That(exit, Is.Zero, err);
            files.Add(File.ReadAllBytes(o));
        }
        Assert.That(files[1], Is.EqualTo(files[0]));
        Assert.That(files[2], Is.EqualTo(files[0]));
    }

    [Test]
    public void ParamsRegexSelectsTheMatchingInitializers()
    {
        using var dir = Fixtures.NewTempDir();
        string data = WriteInputs(dir, ".npy", Original());
        var (exit, _, err) = CliHarness.Run("grad", "--model", Fixtures.Onnx(Name), "--data", data, "--loss", "entropy", "--params", "^ln_", "--out", dir.File("g.safetensors"));
        Assert.That(exit, Is.Zero, err);
        using var got = SafetensorsFile.Open(dir.File("g.safetensors"));
        var want = OnnxModel.Load(Fixtures.Onnx(Name)).ListInitializers().Where(i => i.DType == DType.F32 && i.Name.StartsWith("ln_", StringComparison.Ordinal)).Select(i => i.Name).ToList();
        Assert.That(want, Is.Not.Empty);
        Assert.That(got.Names, Is.EquivalentTo(want));
    }

    private static IEnumerable<TestCaseData> BadCases()
    {
        yield return new TestCaseData("wrong data shape", "entropy", "bad_shape", "", new[] { "data.npy", "[N, 3, 28, 28]" });
        yield return new TestCaseData("missing labels for xent", "xent", "", "", new[] { "--labels", "xent" });
        yield return new TestCaseData("labels of the wrong dtype", "xent", "", "f32", new[] { "labels.npy", "i64" });
        yield return new TestCaseData("labels of the wrong count", "xent", "", "count", new[] { "labels.npy", "[2]" });
        yield return new TestCaseData("labels outside the classes", "xent", "", "range", new[] { "labels.npy", "10" });
        yield return new TestCaseData("params matching nothing", "entropy", "params", "", new[] { "--params", "no_such" });
        yield return new TestCaseData("unknown loss", "hinge", "", "", new[] { "--loss", "hinge" });
        yield return new TestCaseData("data for a missing input", "entropy", "bad_name", "", new[] { "data.safetensors", "pixel_values" });
        yield return new TestCaseData("zero batch size", "entropy", "batch0", "", new[] { "--batch-size" });
    }

    [TestCaseSource(nameof(BadCases))]
    public void BadInputExits2WithOneLineAndNoOutput(string _, string loss, string dataFault, string labelFault, string[] mentions)
    {
        using var dir = Fixtures.NewTempDir();
        string data;
        if (dataFault == "bad_shape")
        {
            using var t = Tensor.Allocate(Input, DType.F32, [2, 3, 27, 28]);
            NpyFile.Write(data = dir.File("data.npy"), t);
        }
        else if (dataFault == "bad_name")
        {
            using var t = Tensor.Allocate("pixels", DType.F32, [2, 3, 28, 28]);
            SafetensorsWriter.WriteAll(data = dir.File("data.safetensors"), [t]);
        }
        else data = WriteInputs(dir, ".npy", Original());
        var args = new List<string> { "grad", "--model", Fixtures.Onnx(Name), "--data", data, "--loss", loss, "--out", dir.File("g.safetensors") };
        if (dataFault == "params") args.AddRange(["--params", "no_such"]);
        if (dataFault == "batch0") args.AddRange(["--batch-size", "0"]);
        if (labelFault.Length > 0)
        {
            using var labels = labelFault switch
            {
                "f32" => Tensor.Allocate("labels", DType.F32, [2]),
                "count" => Tensor.Allocate("labels", DType.I64, [3]),
                _ => Tensor.Allocate("labels", DType.I64, [2]),
            };
            if (labelFault == "range") labels.Write<long>()[1] = 10;
            NpyFile.Write(dir.File("labels.npy"), labels);
            args.AddRange(["--labels", dir.File("labels.npy")]);
        }
        var files = Directory.GetFiles(dir.Path).Order().ToList();
        var (exit, stdout, err) = CliHarness.Run([.. args]);
        Assert.That(exit, Is.EqualTo(2), err);
        Assert.That(stdout, Is.Empty);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), err);
        foreach (string m in mentions) Assert.That(lines[0], Does.Contain(m));
        Assert.That(Directory.GetFiles(dir.Path).Order().ToList(), Is.EqualTo(files), "nothing written, no temp file left");
    }

    /// <summary>The fixture's two input images, [2, 3, 28, 28] flattened.</summary>
    private static float[] Original()
    {
        using var io = SafetensorsFile.Open(Fixtures.Io(Name));
        using var t = io.Get("input." + Input);
        return t.Read<float>().ToArray();
    }

    private static string WriteInputs(Fixtures.TempDir dir, string format, float[] values)
    {
        long n = values.Length / (3 * 28 * 28);
        using var t = Tensor.Allocate(Input, DType.F32, [n, 3, 28, 28]);
        values.CopyTo(t.Write<float>());
        string path = dir.File("data" + format);
        if (format == ".npy") NpyFile.Write(path, t);
        else SafetensorsWriter.WriteAll(path, [t]);
        return path;
    }
}
