using System.Diagnostics;
using System.Text.Json;
using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Data.Tasks;
using Amalgam.Engine.Data;
using Amalgam.Engine.Training;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// Builds the TinyTasks-8 zoo (or loads it from the cache), mirroring the CLIP setting of Task
/// Arithmetic / TIES / AdaMerging: (1) a ViT tower (<see cref="VitTowerGraph"/>) pretrained
/// self-supervised on rotation prediction over MNIST + Fashion-MNIST training images, its rotation
/// head then dropped; (2) per task a linear probe on the frozen pretrained features of the task's
/// training split (<see cref="LinearProbe"/>): the "zero-shot" head, with the task's own class count;
/// (3) per task the tower fine-tuned with cross-entropy on the task's training split, its head frozen.
/// </summary>
public static class ZooBuilder
{
    private static int _builds;

    /// <summary>How many zoos this process has built (not loaded); lets tests see the cache at work.</summary>
    public static int BuildCount => Volatile.Read(ref _builds);

    public static BuiltZoo BuildOrLoad(ZooOptions options)
    {
        var tasks = ResolveTasks(options);
        var config = VitConfig.Preset(options.Size);
        var budget = ZooBudget.For(options.Size, options.Budget);
        if (options.Threads < 0) throw new BadInputException($"zoo threads {options.Threads}: must be >= 0");
        if (options.TestSamples is < 1) throw new BadInputException($"zoo test samples {options.TestSamples}: must be at least 1");
        var names = tasks.Select(t => t.Name).ToList();
        string folder = ZooCache.Folder(options, names, config, budget);
        if (ZooCache.BuildOnce(folder, f => ZooCache.IsComplete(f, names), temp => Build(temp, options, tasks, config, budget)))
            Interlocked.Increment(ref _builds);
        return Describe(folder, options, tasks, config);
    }

    private static BuiltZoo Describe(string folder, ZooOptions options, IReadOnlyList<TinyTask> tasks, VitConfig config)
    {
        var zooTasks = tasks.Select(t => new ZooTask(t.Name, ZooCache.PretrainedFile(folder, t.Name), ZooCache.FineTunedFile(folder, t.Name),
            ZooCache.TestInputsFile(folder, t.Name), ZooCache.TestLabelsFile(folder, t.Name), t.ClassCount)).ToList();
        return new BuiltZoo(folder, ZooCache.BaseFile(folder), zooTasks, @"^head\.", ParameterCount(config), options);
    }

    /// <summary>Parameters of the tower of this size (the shared, merged part; without any head).</summary>
    public static long ParameterCount(VitConfig config) => ParameterCount(config, classes: null);

    /// <summary>Parameters of one model of this size: the tower plus a head of <paramref name="classes"/> outputs (none when null).</summary>
    public static long ParameterCount(VitConfig config, int? classes)
    {
        var model = classes is int c ? VitTowerGraph.Create(config, 0, "head", c) : VitTowerGraph.Create(config, 0, headName: null);
        return model.ListInitializers().Where(i => i.DType == DType.F32).Sum(i => Shapes.ElementCount(i.Shape));
    }

    private static IReadOnlyList<TinyTask> ResolveTasks(ZooOptions o)
    {
        var names = o.Tasks ?? TinyTasks.Names.ToList();
        if (names.Count == 0) throw new BadInputException("zoo tasks: give at least one task");
        var dup = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new BadInputException($"zoo tasks: '{dup.Key}' is listed twice");
        return names.Select(TinyTasks.Get).ToList();
    }

    private static void Build(string folder, ZooOptions o, IReadOnlyList<TinyTask> tasks, VitConfig config, ZooBudget budget)
    {
        var clock = Stopwatch.StartNew();
        foreach (string sub in new[] { "pretrained", "finetuned", "data" }) Directory.CreateDirectory(Path.Combine(folder, sub));
        void Report(string stage, long done, long total, double? loss) => o.Progress?.Report(new ZooProgress(stage, done, total, loss, clock.Elapsed));
        using var data = new ZooData();

        // 1. Pretraining: rotation prediction with its own 4-way head, dropped afterwards.
        var pretrain = VitTowerGraph.Create(config, SeededRandom.Derive(o.Seed, "init"), "rotation_head", 4);
        var towerNames = pretrain.ListInitializers().Select(i => i.Name).Where(n => !n.StartsWith("rotation_head.", StringComparison.Ordinal)).ToList();
        using var rotations = data.Rotations(budget.PretrainSteps * budget.BatchSize, SeededRandom.Derive(o.Seed, "rotations"));
        var pretrainResult = Train(pretrain, null, rotations, budget, budget.PretrainLearningRate, SeededRandom.Derive(o.Seed, "pretrain"), o,
            p => Report("pretrain", p.Step, p.TotalSteps, p.Loss));
        var tower = towerNames.ToDictionary(n => n, pretrain.ReadInitializer, StringComparer.Ordinal);
        var manifestTasks = new List<object>();
        try
        {
            var features = VitTowerGraph.Create(config, 0, headName: null);
            foreach (var (name, t) in tower) features.ReplaceInitializer(name, t);
            using var extractor = new FeatureExtractor(features, VitTowerGraph.FeaturesName, o.Threads);
            string? baseWritten = null;
            var featureCache = new Dictionary<string, float[]>(StringComparer.Ordinal);
            foreach (var task in tasks)
            {
                // 2. The linear probe on frozen pretrained features: the task's "zero-shot" head.
                // Tasks over the same images (mnist, mnist-parity, mnist-loops) share the probe images and their features.
                string images = $"{task.Source}/{task.Transform}";
                using var probeSet = data.TaskSubset(task, Split.Train, Math.Min(data.Count(task, Split.Train), budget.ProbeSamples),
                    SeededRandom.Derive(o.Seed, "probe " + images));
                Report($"probe {task.Name}", 0, budget.ProbeIterations, null);
                if (!featureCache.TryGetValue(images, out var f)) featureCache[images] = f = extractor.Run(probeSet.Images, config.EmbedDim);
                var (w, b, probeAccuracy) = LinearProbe.Fit(f, probeSet.Labels.Read<long>().ToArray(), config.EmbedDim, task.ClassCount,
                    budget.ProbeIterations, (it, loss) => { if (it % 10 == 0 || it == budget.ProbeIterations) Report($"probe {task.Name}", it, budget.ProbeIterations, loss); });
                var model = TaskModel(config, tower, task.ClassCount, w, b);
                model.Save(ZooCache.PretrainedFile(folder, task.Name), OnnxSaveOptions.Inline);
                if (baseWritten is null)
                {
                    model.Save(ZooCache.BaseFile(folder), OnnxSaveOptions.Inline);
                    baseWritten = task.Name;
                }

                // 3. Fine-tuning the tower with the head frozen.
                using var fineTuneSet = data.TaskSubset(task, Split.Train, budget.FineTuneSteps * budget.BatchSize, SeededRandom.Derive(o.Seed, "finetune " + task.Name));
                var result = Train(model, towerNames, fineTuneSet, budget, budget.FineTuneLearningRate, SeededRandom.Derive(o.Seed, "shuffle " + task.Name), o,
                    p => Report($"finetune {task.Name}", p.Step, p.TotalSteps, p.Loss));
                model.Save(ZooCache.FineTunedFile(folder, task.Name), OnnxSaveOptions.Inline);

                WriteTestSplit(folder, data, task, o);
                manifestTasks.Add(new
                {
                    name = task.Name, classes = task.ClassCount, probe_samples = probeSet.Count, probe_train_accuracy = probeAccuracy,
                    finetune_steps = result.Steps, finetune_final_loss = result.EpochLosses[^1],
                });
            }
            var manifest = new
            {
                format = ZooCache.FormatVersion, size = o.Size, seed = o.Seed, budget = o.Budget, test_samples = o.TestSamples,
                config, parameters = ParameterCount(config), head_classes = tasks.Select(t => t.ClassCount).ToArray(), private_regex = @"^head\.",
                base_head = baseWritten, budgets = budget, pretrain_steps = pretrainResult.Steps, pretrain_final_loss = pretrainResult.EpochLosses[^1],
                tasks = manifestTasks,
            };
            File.WriteAllText(Path.Combine(folder, ZooCache.ManifestName), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        }
        finally
        {
            foreach (var t in tower.Values) t.Dispose();
        }
    }

    /// <summary>The tower with a task head of the task's own class count C (weight [C, E] row-major, bias [C]).</summary>
    private static OnnxModel TaskModel(VitConfig config, IReadOnlyDictionary<string, Tensor> tower, int classes, float[] weight, float[] bias)
    {
        var model = VitTowerGraph.Create(config, 0, "head", classes);
        foreach (var (name, t) in tower) model.ReplaceInitializer(name, t);
        using var hw = Tensor.Allocate("head.weight", DType.F32, [classes, config.EmbedDim], zero: false);
        using var hb = Tensor.Allocate("head.bias", DType.F32, [classes], zero: false);
        weight.CopyTo(hw.Write<float>());
        bias.CopyTo(hb.Write<float>());
        model.ReplaceInitializer("head.weight", hw);
        model.ReplaceInitializer("head.bias", hb);
        return model;
    }

    /// <summary>
    /// One epoch over <paramref name="set"/> (its size is steps x batch) with AdamW, the learning rate
    /// warmed up linearly over the first tenth of the steps (at most 20) and then decayed to zero on a
    /// cosine (set between steps from the trainer's synchronous progress report).
    /// </summary>
    private static TrainResult Train(OnnxModel model, IReadOnlyList<string>? parameters, Dataset set, ZooBudget budget, float peak, ulong seed,
        ZooOptions o, Action<TrainProgress> progress)
    {
        long total = set.Count / budget.BatchSize;
        Optimizer? optimizer = null;
        return Trainer.Train(new TrainRequest
        {
            Model = model, Inputs = set.Images, Labels = set.Labels, Parameters = parameters, Epochs = 1,
            BatchSize = budget.BatchSize, MicroBatchSize = budget.MicroBatchSize, Threads = o.Threads, Seed = seed,
            CreateOptimizer = ps => optimizer = new AdamOptimizer(ps, new Kernels.Optim.AdamSettings(LearningRate(1, total, peak), WeightDecay: budget.WeightDecay)),
            EvaluateTrainingSet = false,
            Progress = new SyncProgress<TrainProgress>(p =>
            {
                if (!p.EpochEnd && optimizer is not null) optimizer.LearningRate = LearningRate(p.Step + 1, total, peak);
                progress(p);
            }),
        });
    }

    /// <summary>Learning rate of step <paramref name="step"/> (1-based) of <paramref name="total"/>.</summary>
    internal static float LearningRate(long step, long total, float peak)
    {
        long warmup = Math.Clamp(total / 10, 1, 20);
        if (step <= warmup) return peak * step / warmup;
        double t = Math.Min(1.0, (double)(step - warmup) / Math.Max(1, total - warmup));
        return (float)(peak * 0.5 * (1 + Math.Cos(Math.PI * t)));
    }

    /// <summary>The task's test split (or a seeded subset of <see cref="ZooOptions.TestSamples"/>) as images f32 [N, 1, 28, 28] and labels i64 [N].</summary>
    private static void WriteTestSplit(string folder, ZooData data, TinyTask task, ZooOptions o)
    {
        int count = data.Count(task, Split.Test);
        using var test = o.TestSamples is { } limit && limit < count
            ? data.TaskSubset(task, Split.Test, limit, SeededRandom.Derive(o.Seed, "test " + task.Name))
            : data.Task(task, Split.Test);
        using var images = Tensor.Allocate("images", DType.F32, [test.Count, 1, test.Height, test.Width], zero: false);
        test.Images.Read<float>().CopyTo(images.Write<float>());
        NpyFile.Write(ZooCache.TestInputsFile(folder, task.Name), images);
        NpyFile.Write(ZooCache.TestLabelsFile(folder, task.Name), test.Labels);
    }

}
