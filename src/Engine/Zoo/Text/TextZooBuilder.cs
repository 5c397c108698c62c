using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Data.Text;
using Amalgam.Engine.Data;
using Amalgam.Engine.Text;
using Amalgam.Engine.Training;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Zoo.Text;

/// <summary>
/// Builds the text zoo (or loads it from the cache), the CLIP protocol of TinyTasks-8 on a real
/// pretrained encoder: (1) per task a linear probe (float64 logistic regression) on the frozen
/// encoder's pooled sentence features of the task's training split: the "zero-shot" head, with
/// the task's own class count; (2) per task the encoder fine-tuned with cross-entropy on the task's
/// training split, its head frozen (<see cref="Trainer"/>, AdamW). Every model is
/// <see cref="EncoderClassifier"/> over the encoder export; merge with <c>--private '^head\.'</c>.
/// </summary>
public static class TextZooBuilder
{
    public const string PrivateRegex = @"^head\.";
    public const int FormatVersion = 4;   // 2: fine-tuning on examples the probe has not seen; 3: probe L2 chosen on held-out examples, fine-tuning at 2e-5; 4: class-balanced prefixes

    public static BuiltZoo BuildOrLoad(TextZooOptions options)
    {
        var names = options.Tasks ?? TextTasks.Names;
        if (names.Count == 0) throw new BadInputException("zoo tasks: give at least one task");
        if (names.Distinct().Count() != names.Count) throw new BadInputException($"zoo tasks {string.Join(",", names)}: a task is listed twice");
        if (options.Threads < 0) throw new BadInputException($"zoo threads {options.Threads}: must be >= 0");
        if (options.TestSamples is < 1) throw new BadInputException($"zoo test samples {options.TestSamples}: must be at least 1");
        var encoder = EncoderFiles.Get(options.Encoder);
        var budget = TextZooBudget.For(options.Budget);
        string folder = Folder(options, names, budget);
        ZooCache.BuildOnce(folder, f => IsComplete(f, names), temp => Build(temp, options, names, encoder, budget));
        var classes = ClassCounts(folder);
        var tasks = names.Select(n => new ZooTask(n, PretrainedFile(folder, n), FineTunedFile(folder, n), TestInputsFile(folder, n), TestLabelsFile(folder, n),
            classes[n])).ToList();
        var zooOptions = new ZooOptions { CacheDir = options.CacheDir, Size = options.Encoder, Tasks = names, Seed = options.Seed, Budget = options.Budget, Threads = options.Threads, TestSamples = options.TestSamples };
        return new BuiltZoo(folder, Path.Combine(folder, "base.onnx"), tasks, PrivateRegex, SharedParameters(folder), zooOptions);
    }

    private static void Build(string folder, TextZooOptions o, IReadOnlyList<string> names, EncoderInfo info, TextZooBudget budget)
    {
        var clock = Stopwatch.StartNew();
        foreach (string sub in new[] { "pretrained", "finetuned", "data" }) Directory.CreateDirectory(Path.Combine(folder, sub));
        void Report(string stage, long done, long total, double? loss) => o.Progress?.Report(new ZooProgress(stage, done, total, loss, clock.Elapsed));
        Report("load encoder", 0, 1, null);
        var encoder = OnnxModel.Load(info.Model);
        var tokenizer = WordPieceTokenizer.FromVocab(info.Vocab);
        var features = EncoderClassifier.FeatureModel(encoder, info.Pooling);
        int width = Width(features);
        using var extractor = new FeatureExtractor(features, EncoderClassifier.Features, o.Threads);
        var manifestTasks = new List<object>();
        bool baseWritten = false;
        foreach (string name in names)
        {
            Report($"data {name}", 0, 1, null);
            var task = TextTasks.Build(name);
            int length = task.IsPair ? budget.PairLength : budget.SingleLength;

            // 1. The linear probe on frozen pretrained sentence features: the task's "zero-shot" head.
            var probeSet = task.Train.Take(budget.ProbeSamples).ToList();
            Report($"probe {name}", 0, budget.ProbeIterations, null);
            float[] w, b;
            double probeAccuracy, l2;
            using (var probeInputs = tokenizer.Encode(Texts(probeSet), length))
            {
                var f = extractor.Run(probeInputs.ByInputName, width);
                var y = probeSet.Select(e => (long)e.Label).ToArray();
                l2 = LinearProbe.ChooseL2(f, y, width, task.ClassCount, budget.ProbeIterations, TextZooBudget.ProbeL2Candidates);
                (w, b, probeAccuracy) = LinearProbe.Fit(f, y, width, task.ClassCount, budget.ProbeIterations,
                    (it, loss) => { if (it % 10 == 0 || it == budget.ProbeIterations) Report($"probe {name}", it, budget.ProbeIterations, loss); }, l2);
            }
            var model = EncoderClassifier.Create(encoder, info.Pooling, task.ClassCount, w, b);
            model.Save(PretrainedFile(folder, name), OnnxSaveOptions.Inline);
            if (!baseWritten)
            {
                model.Save(Path.Combine(folder, "base.onnx"), OnnxSaveOptions.Inline);
                baseWritten = true;
            }

            // 2. Fine-tuning the encoder with the head frozen, on training examples the probe has not seen: a probe
            // fitted on 2,000 examples in 384 dimensions nearly interpolates them, so on its own examples there is
            // almost no loss left to learn from (measured: +1.6 points over the probes when they overlapped).
            int wanted = budget.FineTuneSteps * budget.BatchSize;
            var unseen = task.Train.Skip(probeSet.Count).ToList();
            var fineTuneSet = (unseen.Count >= budget.BatchSize ? unseen : task.Train.ToList()).Take(wanted).ToList();
            int epochs = (wanted + fineTuneSet.Count - 1) / fineTuneSet.Count;
            var parameters = model.ListInitializers().Where(i => i.DType == DType.F32 && !i.Name.StartsWith("head.", StringComparison.Ordinal)).Select(i => i.Name).ToList();
            TrainResult result;
            using (var inputs = tokenizer.Encode(Texts(fineTuneSet), length))
            using (var labels = Labels(fineTuneSet))
                result = FineTune(model, parameters, inputs, labels, epochs, budget, SeededRandom.Derive(o.Seed, "text shuffle " + name), o,
                    p => Report($"finetune {name}", p.Step, p.TotalSteps, p.Loss));
            model.Save(FineTunedFile(folder, name), OnnxSaveOptions.Inline);

            WriteTestSplit(folder, name, task, tokenizer, length, o.TestSamples);
            manifestTasks.Add(new
            {
                name, classes = task.ClassCount, class_names = task.ClassNames, pair = task.IsPair, max_length = length,
                train_available = task.Train.Count, test_available = task.Test.Count, probe_samples = probeSet.Count, probe_l2 = l2, probe_train_accuracy = probeAccuracy,
                finetune_samples = fineTuneSet.Count, finetune_steps = result.Steps, finetune_final_loss = result.EpochLosses[^1],
            });
        }
        var manifest = new
        {
            format = FormatVersion, encoder = info.Name, encoder_description = info.Description, pooling = info.Pooling.ToString().ToLowerInvariant(),
            seed = o.Seed, budget = o.Budget, test_samples = o.TestSamples, budgets = budget, private_regex = PrivateRegex, tasks = manifestTasks,
            seconds = clock.Elapsed.TotalSeconds,
        };
        File.WriteAllText(Path.Combine(folder, "zoo.json"), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static TrainResult FineTune(OnnxModel model, IReadOnlyList<string> parameters, TokenizedBatch inputs, Tensor labels, int epochs,
        TextZooBudget budget, ulong seed, TextZooOptions o, Action<TrainProgress> progress)
    {
        long total = epochs * (inputs.Count / budget.BatchSize);
        Optimizer? optimizer = null;
        return Trainer.Train(new TrainRequest
        {
            Model = model, InputSet = inputs.ByInputName, Labels = labels, Parameters = parameters, Epochs = epochs,
            BatchSize = budget.BatchSize, MicroBatchSize = budget.MicroBatchSize, Threads = o.Threads, Seed = seed,
            CreateOptimizer = ps => optimizer = new AdamOptimizer(ps, new Kernels.Optim.AdamSettings(ZooBuilder.LearningRate(1, total, budget.LearningRate), WeightDecay: budget.WeightDecay)),
            EvaluateTrainingSet = false,
            Progress = new SyncProgress<TrainProgress>(p =>
            {
                if (!p.EpochEnd && optimizer is not null) optimizer.LearningRate = ZooBuilder.LearningRate(p.Step + 1, total, budget.LearningRate);
                progress(p);
            }),
        });
    }

    /// <summary>The first <paramref name="limit"/> examples of the fixed test split: the three token tensors (.safetensors) and labels (.npy).</summary>
    private static void WriteTestSplit(string folder, string name, TextTaskData task, WordPieceTokenizer tokenizer, int length, int? limit)
    {
        var test = task.Test.Take(limit ?? int.MaxValue).ToList();
        using var inputs = tokenizer.Encode(Texts(test), length);
        SafetensorsWriter.WriteAll(TestInputsFile(folder, name), inputs.ByInputName.Values);
        using var labels = Labels(test);
        NpyFile.Write(TestLabelsFile(folder, name), labels);
    }

    private static List<(string A, string? B)> Texts(IEnumerable<TextExample> examples) => examples.Select(e => (e.A, e.B)).ToList();

    private static Tensor Labels(IReadOnlyList<TextExample> examples)
    {
        var t = Tensor.Allocate("labels", DType.I64, [examples.Count]);
        var y = t.Write<long>();
        for (int i = 0; i < examples.Count; i++) y[i] = examples[i].Label;
        return t;
    }

    private static int Width(OnnxModel features) =>
        checked((int)features.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue);

    /// <summary>Each task's class count as the manifest records it (rather than parsing a 90 MB model per task).</summary>
    private static Dictionary<string, int> ClassCounts(string folder)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "zoo.json")));
        return manifest.RootElement.GetProperty("tasks").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("classes").GetInt32(), StringComparer.Ordinal);
    }

    private static long SharedParameters(string folder)
    {
        var m = OnnxModel.Load(Path.Combine(folder, "base.onnx"));
        return m.ListInitializers().Where(i => i.DType == DType.F32 && !i.Name.StartsWith("head.", StringComparison.Ordinal)).Sum(i => Shapes.ElementCount(i.Shape));
    }

    /// <summary><c>&lt;cache&gt;/zoo/text-&lt;encoder&gt;-&lt;key&gt;</c>, the key a hash of every option that changes the files.</summary>
    internal static string Folder(TextZooOptions o, IReadOnlyList<string> tasks, TextZooBudget budget)
    {
        string text = string.Create(CultureInfo.InvariantCulture,
            $"amalgam-text-zoo|v{FormatVersion}|encoder={o.Encoder}|tasks={string.Join(",", tasks)}|seed={o.Seed}|budget={o.Budget:R}|test={o.TestSamples}|{budget}");
        return Path.Combine(o.CacheDir ?? Path.Combine(DataPaths.CacheDir, "zoo"), $"text-{o.Encoder}-{ZooCache.KeyOf(text)}");
    }

    public static string PretrainedFile(string folder, string task) => Path.Combine(folder, "pretrained", task + ".onnx");
    public static string FineTunedFile(string folder, string task) => Path.Combine(folder, "finetuned", task + ".onnx");
    public static string TestInputsFile(string folder, string task) => Path.Combine(folder, "data", task + ".test.tokens.safetensors");
    public static string TestLabelsFile(string folder, string task) => Path.Combine(folder, "data", task + ".test.labels.npy");

    private static bool IsComplete(string folder, IReadOnlyList<string> tasks) =>
        File.Exists(Path.Combine(folder, "zoo.json")) && File.Exists(Path.Combine(folder, "base.onnx"))
        && tasks.All(t => File.Exists(PretrainedFile(folder, t)) && File.Exists(FineTunedFile(folder, t)) && File.Exists(TestInputsFile(folder, t)) && File.Exists(TestLabelsFile(folder, t)));
}
