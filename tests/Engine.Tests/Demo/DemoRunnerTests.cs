using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Demo;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Training;
using Amalgam.Engine.Zoo;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;

namespace Amalgam.Engine.Tests.Demo;

/// <summary>
/// The runner's plumbing on a hand-made zoo (a 784-16-10 perceptron, head fc2 private): each row's
/// accuracies are checked against a float64 forward pass written here, so task order, the
/// private heads and the evaluation are all verified; a method that throws becomes a failed row.
/// </summary>
public class DemoRunnerTests
{
    private const int Hidden = 16, Samples = 300, K = 3;
    private static readonly string[] TaskNames = ["mnist", "fashion", "mnist-parity"];

    private sealed record Weights(double[] W1, double[] B1, double[] W2, double[] B2);

    [Test]
    public void RowsMatchAFloat64ForwardPassAndAFailingMethodIsAFailedRow()
    {
        using var dir = Fixtures.NewTempDir();
        var (zoo, pretrained, fineTuned, inputs) = MakeZoo(dir.Path);
        var plan = new List<PlannedRow>
        {
            new("average", "Weight Averaging", "average", new Dictionary<string, string>()),
            new("broken", "Broken", "task_arithmetic", new Dictionary<string, string> { ["no_such_parameter"] = "1" }),
        };
        var messages = new List<string>();
        var options = new DemoOptions { Tasks = TaskNames, Out = Path.Combine(dir.Path, "out"), Threads = 2, Progress = new Recorder(messages) };
        var results = DemoRunner.Run(options, _ => zoo, plan);

        Assert.That(results.Tasks, Is.EqualTo(TaskNames));
        Assert.That(results.Rows.Select(r => r.Id), Is.EqualTo(new[] { "pretrained", "individual", "average", "broken" }));
        var labels = fineTuned.Select(w => Predict(w, inputs)).ToArray();
        // The merged model of task t: fc1 = mean of the fine-tuned fc1, fc2 = task t's own head.
        var meanW1 = Enumerable.Range(0, fineTuned[0].W1.Length).Select(i => fineTuned.Average(w => (double)(float)w.W1[i])).ToArray();
        var meanB1 = Enumerable.Range(0, Hidden).Select(i => fineTuned.Average(w => (double)(float)w.B1[i])).ToArray();
        for (int t = 0; t < K; t++)
        {
            Assert.That(results.Rows[0].Accuracies![t], Is.EqualTo(Accuracy(Predict(pretrained, inputs), labels[t])), $"pretrained, task {t}");
            Assert.That(results.Rows[1].Accuracies![t], Is.EqualTo(1.0), $"individual, task {t}");
            var merged = fineTuned[t] with { W1 = meanW1, B1 = meanB1 };
            Assert.That(results.Rows[2].Accuracies![t], Is.EqualTo(Accuracy(Predict(merged, inputs), labels[t])), $"average, task {t}");
        }
        Assert.That(results.Rows[2].MergeSeconds, Is.GreaterThanOrEqualTo(0));
        Assert.That(results.Rows[3].Failure, Does.StartWith("task_arithmetic: unknown parameter 'no_such_parameter'"));
        Assert.That(results.Rows[3].Accuracies, Is.Null);
        Assert.That(messages, Has.Some.StartWith("Broken: failed: "));
        Assert.That(results.Setup.TestSamples, Is.EqualTo(Enumerable.Repeat((long)Samples, K)));
        Assert.That(results.Setup.Parameters, Is.EqualTo(zoo.ParameterCount));
        Assert.That(File.ReadAllText(Path.Combine(options.Out, DemoRunner.ResultsJsonFile)), Is.EqualTo(ResultsJson.Render(results)));
        Assert.That(Directory.GetFiles(options.Out).Select(Path.GetFileName), Is.EquivalentTo(new[] { DemoRunner.ResultsJsonFile }), "the engine writes results.json only (the CLI renders the rest)");
        Assert.That(Directory.Exists(Path.Combine(options.Out, "models")), Is.False, "merged models go to a temp folder by default");
    }

    [Test]
    public void WarningsAMergeRaisesAreKeptInItsRowAndTheResults()
    {
        using var dir = Fixtures.NewTempDir();
        var (zoo, _, _, _) = MakeZoo(dir.Path);
        // collapse_share=0: every task's top class passes the share, so each task is warned about once, at step 0.
        var plan = new List<PlannedRow>
        {
            new("adamerging_task", "AdaMerging (task-wise)", "adamerging", new Dictionary<string, string>
            {
                ["granularity"] = "task", ["steps"] = "1", ["batch_size"] = "8", ["batches_per_step"] = "1", ["collapse_share"] = "0", ["probe_samples"] = "16",
            }),
            new("average", "Weight Averaging", "average", new Dictionary<string, string>()),
        };
        var options = new DemoOptions { Tasks = TaskNames, Out = Path.Combine(dir.Path, "out"), Threads = 1 };
        var results = DemoRunner.Run(options, _ => zoo, plan);

        var ada = results.Rows.Single(r => r.Id == "adamerging_task");
        Assert.That(ada.Failure, Is.Null);
        Assert.That(ada.Warnings, Has.Count.EqualTo(K));
        for (int t = 0; t < K; t++) Assert.That(ada.Warnings[t], Does.Contain($"task '{TaskNames[t]}'").And.Contain("at step 0"));
        Assert.That(results.Rows.Single(r => r.Id == "average").Warnings, Is.Empty);
        Assert.That(ResultsTable.Warnings(results), Is.EqualTo(ada.Warnings.Select(w => "AdaMerging (task-wise): " + w).ToArray()));
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(options.Out, DemoRunner.ResultsJsonFile)));
        Assert.That(json.RootElement.ToString(), Does.Contain("collapses onto one class"));
    }

    private static double Accuracy(int[] predicted, int[] labels) =>
        (double)predicted.Zip(labels).Count(p => p.First == p.Second) / labels.Length;

    /// <summary>argmax(relu(x W1 + b1) W2 + b2) in float64, first index on ties.</summary>
    private static int[] Predict(Weights w, float[] x)
    {
        var result = new int[Samples];
        var h = new double[Hidden];
        for (int n = 0; n < Samples; n++)
        {
            for (int j = 0; j < Hidden; j++)
            {
                double s = w.B1[j];
                for (int i = 0; i < TinyClassifier.Pixels; i++) s += x[n * TinyClassifier.Pixels + i] * w.W1[i * Hidden + j];
                h[j] = Math.Max(0, s);
            }
            int arg = 0;
            double best = double.NegativeInfinity;
            for (int c = 0; c < TinyClassifier.Classes; c++)
            {
                double s = w.B2[c];
                for (int j = 0; j < Hidden; j++) s += h[j] * w.W2[j * TinyClassifier.Classes + c];
                if (s > best) { best = s; arg = c; }
            }
            result[n] = arg;
        }
        return result;
    }

    /// <summary>Base = a random perceptron; task t = base plus noise on every weight; labels = task t's own predictions.</summary>
    private static (BuiltZoo BuiltZoo, Weights Pretrained, Weights[] FineTuned, float[] Inputs) MakeZoo(string dir)
    {
        var rng = new Random(11);
        var model = TinyClassifier.Create(Hidden, seed: 5);
        Weights Read(OnnxModel m) => new(Get(m, "fc1.weight"), Get(m, "fc1.bias"), Get(m, "fc2.weight"), Get(m, "fc2.bias"));
        var pretrained = Read(model);
        string basePath = Path.Combine(dir, "base.onnx");
        model.Save(basePath);
        var inputs = Enumerable.Range(0, Samples * TinyClassifier.Pixels).Select(_ => (float)rng.NextDouble()).ToArray();
        string inputsPath = Path.Combine(dir, "test_inputs.npy");
        using (var x = Tensor.Allocate("x", DType.F32, [Samples, TinyClassifier.Pixels]))
        {
            inputs.CopyTo(x.Write<float>());
            NpyFile.Write(inputsPath, x);
        }
        Directory.CreateDirectory(Path.Combine(dir, "finetuned"));
        var fineTuned = new Weights[K];
        var tasks = new List<ZooTask>();
        for (int t = 0; t < K; t++)
        {
            var copy = new OnnxModel(model.Proto.Clone(), dir, $"{TaskNames[t]}.onnx");
            foreach (var init in copy.Graph.Initializer)
            {
                var values = Floats(init).Select(v => v + (float)((rng.NextDouble() * 2 - 1) * 0.2)).ToArray();
                init.RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray());
            }
            fineTuned[t] = Read(copy);
            string path = Path.Combine(dir, "finetuned", $"{TaskNames[t]}.onnx");
            copy.Save(path);
            string labelsPath = Path.Combine(dir, $"labels_{t}.npy");
            using (var y = Tensor.Allocate("y", DType.I64, [Samples]))
            {
                var labels = Predict(fineTuned[t], inputs);
                for (int n = 0; n < Samples; n++) y.Write<long>()[n] = labels[n];
                NpyFile.Write(labelsPath, y);
            }
            tasks.Add(new ZooTask(TaskNames[t], basePath, path, inputsPath, labelsPath, TinyClassifier.Classes));
        }
        long parameters = model.Graph.Initializer.Sum(i => i.Dims.Aggregate(1L, (a, d) => a * d));
        var zoo = new BuiltZoo(dir, basePath, tasks, @"^fc2\.", parameters, new ZooOptions());
        return (zoo, pretrained, fineTuned, inputs);
    }

    private static double[] Get(OnnxModel m, string name) =>
        Floats(m.Graph.Initializer.Single(i => i.Name == name)).Select(v => (double)v).ToArray();

    private static float[] Floats(Onnx.TensorProto t)
    {
        var bytes = t.RawData.ToByteArray();
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private sealed class Recorder(List<string> messages) : IDemoProgress
    {
        public BuiltZoo BuildZoo(Func<IProgress<ZooProgress>?, BuiltZoo> work) => work(null);
        public Amalgam.Engine.Merging.MergeResult Merge(string row, Func<IProgress<Amalgam.Engine.Merging.MergeProgress>?, Amalgam.Engine.Merging.MergeResult> work) => work(null);
        public T Evaluate<T>(string row, Func<IProgress<EvaluationProgress>?, T> work) => work(null);
        public void Message(string line) => messages.Add(line);
    }
}
