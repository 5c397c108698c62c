using System.Text.Json;
using Amalgam.Engine.Data.Npy;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>
/// AdaMerging's collapse diagnostics on the two-layer MLP with heads of their own class counts: the
/// probe's statistics against a float64 forward of theta(init) with each task's head, a hand-made
/// collapsed head (every input one class) warned about by name, a balanced one not; and the rule
/// and tally on hand-computed cases.
/// </summary>
public sealed class CollapseDiagnosticsTests
{
    private const int Samples = 40, ProbeSamples = 24, BatchSize = 8;

    /// <summary>Base and two tasks (heads of 2 and 5 classes), data, and the float64 parameters of each.</summary>
    private sealed record Zoo(string Base, string[] Tasks, string[] Data, Dictionary<string, double[]> Theta0, Dictionary<string, double[]>[] Thetas, double[][] X);

    /// <param name="collapseTask1">Give task 1's head a bias of +40 on class 3: every input is predicted 3.</param>
    private static Zoo Build(Fixtures.TempDir dir, bool collapseTask1)
    {
        var rng = new Random(5);
        var tower = HeadedMlp.RandomShared(rng);
        var x = Enumerable.Range(0, Samples).Select(_ => HeadedMlp.Random(rng, HeadedMlp.In, 1.5)).ToArray();
        new HeadedMlp(null, tower).Save(dir.File("base.onnx"));
        var thetas = new Dictionary<string, double[]>[2];
        var tasks = new string[2];
        var data = new string[2];
        int[] classes = [2, 5];
        var towers = Enumerable.Range(0, 2).Select(_ => tower.ToDictionary(kv => kv.Key,
            kv => kv.Value.Select(v => (double)(float)(v + 0.2 * (rng.NextDouble() - 0.5))).ToArray(), StringComparer.Ordinal)).ToArray();
        var merged = Merged(tower, towers[0], towers[1]);
        for (int k = 0; k < 2; k++)
        {
            var shared = towers[k];
            var weight = HeadedMlp.Random(rng, classes[k] * HeadedMlp.Hidden, 1.5);
            var bias = new double[classes[k]];
            var model = new HeadedMlp(classes[k], shared, weight, bias);
            if (k == 0)
            {
                // Binary head (w, -w): class = sign(w . h - t). t = the median of w . h over the data at
                // theta(init) splits the inputs evenly, so this head is balanced by construction.
                var margins = x.Select(xi => HeadedMlp.Forward(With(merged, model.P), xi, 2)).Select(z => z[0] - z[1]).Order().ToArray();
                double half = (margins[Samples / 2 - 1] + margins[Samples / 2]) / 4;
                model.P["head.bias"] = [(double)(float)-half, (double)(float)half];
            }
            if (k == 1 && collapseTask1) model.P["head.bias"][3] = 40;
            thetas[k] = model.P;
            tasks[k] = dir.File($"t{k}.onnx");
            model.Save(tasks[k]);
            data[k] = dir.File($"x{k}.npy");
            using var t = Tensor.Allocate("x", DType.F32, [Samples, HeadedMlp.In]);
            var span = t.Write<float>();
            for (int i = 0; i < Samples; i++)
                for (int j = 0; j < HeadedMlp.In; j++) span[i * HeadedMlp.In + j] = (float)x[i][j];
            NpyFile.Write(data[k], t);
        }
        return new Zoo(dir.File("base.onnx"), tasks, data, tower, thetas, x);
    }

    /// <summary>theta0 + 0.3 sum_k tau_k over the shared tensors (AdaMerging's step 0), in float64.</summary>
    private static Dictionary<string, double[]> Merged(Dictionary<string, double[]> theta0, Dictionary<string, double[]> a, Dictionary<string, double[]> b) =>
        theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Select((v, i) => v + 0.3 * (a[kv.Key][i] - v) + 0.3 * (b[kv.Key][i] - v)).ToArray(), StringComparer.Ordinal);

    private static Dictionary<string, double[]> With(Dictionary<string, double[]> shared, Dictionary<string, double[]> task)
    {
        var p = new Dictionary<string, double[]>(shared, StringComparer.Ordinal);
        p["head.weight"] = task["head.weight"];
        p["head.bias"] = task["head.bias"];
        return p;
    }

    private sealed class Recorder : IProgress<MergeProgress>
    {
        public List<string> Warnings { get; } = [];
        public void Report(MergeProgress value) { if (value.Warning is not null) Warnings.Add(value.Warning); }
    }

    private static (JsonElement Report, List<string> Warnings) Run(Fixtures.TempDir dir, Zoo zoo, int steps, string objective = "entropy")
    {
        var recorder = new Recorder();
        var result = Merger.Merge(new MergeRequest
        {
            Method = "adamerging", Base = zoo.Base, Models = zoo.Tasks, Data = zoo.Data, Private = @"^head\.", Out = dir.File($"out-{Guid.NewGuid():N}"),
            Set = new Dictionary<string, string>
            {
                ["steps"] = steps.ToString(), ["batch_size"] = BatchSize.ToString(), ["probe_samples"] = ProbeSamples.ToString(),
                ["checkpoint_every"] = "2", ["objective"] = objective,
            },
            Progress = recorder,
        });
        return (JsonDocument.Parse(result.MethodResultsJson).RootElement.Clone(), recorder.Warnings);
    }

    [Test]
    public void ProbeStatisticsMatchAFloat64ForwardOfTheInitialMerge()
    {
        using var dir = Fixtures.NewTempDir();
        var zoo = Build(dir, collapseTask1: true);
        var (report, _) = Run(dir, zoo, steps: 0);
        var first = report.GetProperty("diagnostics")[0];
        Assert.That(first.GetProperty("step").GetInt64(), Is.Zero);
        var merged = Merged(zoo.Theta0, zoo.Thetas[0], zoo.Thetas[1]);
        for (int k = 0; k < 2; k++)
        {
            int c = k == 0 ? 2 : 5;
            var probs = Enumerable.Range(0, ProbeSamples).Select(i => Softmax(HeadedMlp.Forward(With(merged, zoo.Thetas[k]), zoo.X[i * Samples / ProbeSamples], c))).ToArray();
            double meanEntropy = probs.Average(p => -p.Sum(q => q * Math.Log(q)));
            var pbar = Enumerable.Range(0, c).Select(j => probs.Average(p => p[j])).ToArray();
            double marginal = -pbar.Sum(q => q * Math.Log(q));
            var counts = Enumerable.Range(0, c).Select(j => probs.Count(p => Array.IndexOf(p, p.Max()) == j)).ToArray();
            var got = first.GetProperty("tasks")[k];
            Assert.That(got.GetProperty("task").GetString(), Is.EqualTo($"t{k}"));
            Assert.That(got.GetProperty("samples").GetInt32(), Is.EqualTo(ProbeSamples));
            Assert.That(got.GetProperty("classes").GetInt32(), Is.EqualTo(c));
            Assert.That(got.GetProperty("mean_entropy").GetDouble(), Is.EqualTo(meanEntropy).Within(1e-5 * Math.Max(1, meanEntropy)), $"t{k} mean entropy");
            Assert.That(got.GetProperty("marginal_entropy").GetDouble(), Is.EqualTo(marginal).Within(1e-5), $"t{k} marginal entropy");
            Assert.That(got.GetProperty("top_share").GetDouble(), Is.EqualTo((double)counts.Max() / ProbeSamples), $"t{k} top share");
            Assert.That(got.GetProperty("top_class").GetInt32(), Is.EqualTo(Array.IndexOf(counts, counts.Max())), $"t{k} top class");
        }
    }

    [Test]
    public void ACollapsedHeadIsWarnedAboutByNameAndABalancedOneIsNot()
    {
        using var dir = Fixtures.NewTempDir();
        var collapsed = Run(dir, Build(dir, collapseTask1: true), steps: 4);
        Assert.That(collapsed.Warnings, Has.Count.EqualTo(1), string.Join("\n", collapsed.Warnings));
        Assert.That(collapsed.Warnings[0], Does.Contain("task 't1'").And.Contain("100.0% of its 24 probe inputs are predicted class 3").And.Not.Contain("\n"));
        Assert.That(collapsed.Report.GetProperty("warnings").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(collapsed.Warnings));
        // Measured at step 0, every checkpoint_every = 2 steps and after the last: steps 0, 2, 4.
        Assert.That(collapsed.Report.GetProperty("diagnostics").EnumerateArray().Select(d => d.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 0, 2, 4 }));

        var balanced = Run(dir, Build(dir, collapseTask1: false), steps: 4);
        Assert.That(balanced.Warnings, Is.Empty);
        var share = balanced.Report.GetProperty("diagnostics")[0].GetProperty("tasks")[0].GetProperty("top_share").GetDouble();
        Assert.That(share, Is.InRange(0.4, 0.6), "the binary head splits the probe about evenly");
    }

    private static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    private static PredictionStats Stats(long step, int classes, double marginal, double share) =>
        new("t", step, 100, classes, 0.5, marginal, share, 1);

    [Test]
    public void TheRuleWarnsOnAShareAboveTheThresholdOrAHalvedMarginal()
    {
        var start = Stats(0, 10, 2.0, 0.2);
        Assert.That(CollapseRule.Check(start, Stats(50, 10, 1.2, 0.5), 0.5), Is.Null, "0.5 is not above 0.5");
        Assert.That(CollapseRule.Check(start, Stats(50, 10, 1.2, 0.51), 0.5), Does.Contain("at step 50").And.Contain("51.0%"));
        Assert.That(CollapseRule.Check(start, Stats(50, 10, 0.99, 0.3), 0.5), Does.Contain("fell below half"));
        Assert.That(CollapseRule.Check(start, Stats(50, 10, 1.0, 0.3), 0.5), Is.Null, "exactly half is not below half");
        // Two classes: a working binary head predicts about half its inputs as one class.
        Assert.That(CollapseRule.ShareThreshold(0.5, 2), Is.EqualTo(0.75));
        var binary = Stats(0, 2, 0.69, 0.5);
        Assert.That(CollapseRule.Check(binary, Stats(10, 2, 0.6, 0.7), 0.5), Is.Null);
        Assert.That(CollapseRule.Check(binary, Stats(10, 2, 0.6, 0.8), 0.5), Does.Contain("threshold 75%"));
        Assert.That(CollapseRule.Check(binary, Stats(10, 2, 0.6, 0.8), 0.5, informationMaximisation: true), Does.Contain("im_weight"));
    }

    [Test]
    public void TheWatchWarnsOncePerTaskAgainstStepZero()
    {
        var watch = new CollapseWatch(0.5);
        Assert.That(watch.Add([Stats(0, 10, 2.0, 0.2)]), Is.Empty);
        Assert.That(watch.Add([Stats(5, 10, 0.9, 0.2)]), Has.Count.EqualTo(1));
        Assert.That(watch.Add([Stats(10, 10, 0.1, 0.9)]), Is.Empty, "already warned");
        Assert.That(watch.History, Has.Count.EqualTo(3));
        Assert.That(watch.Warnings, Has.Count.EqualTo(1));
    }

    [Test]
    public void TheProgressSummaryNamesTheLatestMostCollapsedTask()
    {
        var watch = new CollapseWatch(0.5);
        Assert.That(watch.Summary(), Is.Null);
        watch.Add([Stats(0, 10, 2.0, 0.2) with { Task = "a" }, Stats(0, 10, 2.0, 0.3) with { Task = "b" }]);
        watch.Add([Stats(50, 10, 2.0, 0.61) with { Task = "a" }, Stats(50, 10, 2.0, 0.25) with { Task = "b" }]);
        Assert.That(watch.Summary(), Is.EqualTo("top class 61% a (step 50)"));
    }

    [Test]
    public void TheTallyMatchesHandComputedValues()
    {
        // Rows: logits (0, 0) -> p = (1/2, 1/2), H = ln 2, argmax 0 (first on ties); (ln 3, 0) -> p = (3/4, 1/4), argmax 0.
        var tally = new PredictionTally(2);
        tally.Add([0f, 0f, MathF.Log(3f), 0f], 2);
        var s = tally.Result("t", 7);
        double h2 = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));
        Assert.That(s.MeanEntropy, Is.EqualTo((Math.Log(2) + h2) / 2).Within(1e-7));
        Assert.That(s.MarginalEntropy, Is.EqualTo(-(0.625 * Math.Log(0.625) + 0.375 * Math.Log(0.375))).Within(1e-7));
        Assert.That(s.TopShare, Is.EqualTo(1.0));
        Assert.That((s.TopClass, s.Samples, s.Step), Is.EqualTo((0, 2, 7L)));
    }
}
