using System.Text.Json;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>adamerging through Merger.Merge: AdaMerging++ at step 0 is TIES, resume is bit-exact, threads do not matter.</summary>
public sealed class MergeRunTests
{
    private static MergeResult Merge(string method, string @out, Dictionary<string, string> set, int threads = 0,
        IProgress<MergeProgress>? progress = null, CancellationToken cancel = default) =>
        Merger.Merge(new MergeRequest
        {
            Method = method, Base = AdaMergingFixture.Base, Models = AdaMergingFixture.Tasks, Private = AdaMergingFixture.Private,
            Data = method == "adamerging" ? AdaMergingFixture.Data : [], Set = set, Out = @out, Threads = threads, Seed = 11,
            Progress = progress, Cancellation = cancel,
        });

    /// <summary>Every initializer of every per-task output model, by task file and name, as raw bytes.</summary>
    private static Dictionary<string, byte[]> Initializers(string folder)
    {
        var all = new Dictionary<string, byte[]>();
        foreach (string file in Directory.GetFiles(folder, "*.onnx").Order(StringComparer.Ordinal))
        {
            var model = OnnxModel.Load(file);
            foreach (var info in model.ListInitializers())
            {
                using var t = model.ReadInitializer(info.Name);
                all[$"{Path.GetFileName(file)}:{info.Name}"] = t.Bytes.ToArray();
            }
        }
        return all;
    }

    private static void AssertSameBytes(string a, string b)
    {
        var x = Initializers(a);
        var y = Initializers(b);
        Assert.That(y.Keys, Is.EquivalentTo(x.Keys));
        Assert.That(x.Count, Is.GreaterThan(AdaMergingFixture.K * 30));
        foreach (var (name, bytes) in x) Assert.That(y[name], Is.EqualTo(bytes), name);
    }

    [Test]
    public void AdaMergingPlusPlusAtStepZeroIsTies()
    {
        using var dir = Fixtures.NewTempDir();
        var ada = Merge("adamerging", dir.File("ada"), new() { ["steps"] = "0", ["granularity"] = "task", ["init"] = "0.3", ["ties_preprocess"] = "true" });
        Merge("ties", dir.File("ties"), new() { ["merge"] = "sum", ["lambda"] = "0.3", ["k"] = "0.2" });
        AssertSameBytes(dir.File("ties"), dir.File("ada"));
        using var report = JsonDocument.Parse(ada.ToJson());
        var lambdas = report.RootElement.GetProperty("lambdas");
        Assert.That(lambdas.GetProperty("granularity").GetString(), Is.EqualTo("task"));
        Assert.That(lambdas.GetProperty("params").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "*" }));
        Assert.That(lambdas.GetProperty("values")[0].EnumerateArray().Select(e => e.GetSingle()), Is.EqualTo(new[] { 0.3f, 0.3f, 0.3f }));
        Assert.That(report.RootElement.GetProperty("loss").GetArrayLength(), Is.Zero);
    }

    [Test]
    public void WithoutTiesTheStepZeroMergeIsTaskArithmeticsValue()
    {
        // theta0 + 0.3 * sum_k tau_k, checked in float64 against the inputs (a reference independent of the kernel).
        using var dir = Fixtures.NewTempDir();
        Merge("adamerging", dir.File("ada"), new() { ["steps"] = "0", ["granularity"] = "layer" });
        var base0 = OnnxModel.Load(AdaMergingFixture.Base);
        var tasks = AdaMergingFixture.Tasks.Select(OnnxModel.Load).ToArray();
        var merged = OnnxModel.Load(Path.Combine(dir.File("ada"), "task_2.onnx"));
        foreach (var info in base0.ListInitializers())
        {
            using var m = merged.ReadInitializer(info.Name);
            using var t0 = base0.ReadInitializer(info.Name);
            var taskValues = tasks.Select(t => { using var x = t.ReadInitializer(info.Name); return x.Read<float>().ToArray(); }).ToArray();
            var got = m.Read<float>();
            var theta0 = t0.Read<float>().ToArray();
            for (int i = 0; i < got.Length; i++)
            {
                double expected = info.Name.StartsWith("head.", StringComparison.Ordinal) ? taskValues[1][i]
                    : theta0[i] + 0.3 * taskValues.Sum(v => (double)v[i] - theta0[i]);
                Assert.That(got[i], Is.EqualTo(expected).Within(1e-6 + 1e-6 * Math.Abs(expected)), $"{info.Name}[{i}]");
            }
        }
    }

    private sealed class CancelAt(int step, CancellationTokenSource source) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value)
        {
            if (value.Pass == "step" && value.TensorsDone == step) source.Cancel();
        }
    }

    [Test]
    public void InterruptedRunResumesToTheSameCoefficients()
    {
        using var dir = Fixtures.NewTempDir();
        var set = new Dictionary<string, string> { ["steps"] = "7", ["batch_size"] = "8", ["checkpoint_every"] = "2" };
        var whole = Merge("adamerging", dir.File("whole"), set);
        Assert.That(File.Exists(TrainerState.PathFor(dir.File("whole"))), Is.False, "state deleted after a successful merge");

        using var cancel = new CancellationTokenSource();
        var e = Assert.Throws<MergeInterruptedException>(() => Merge("adamerging", dir.File("resumed"), set, progress: new CancelAt(5, cancel), cancel: cancel.Token));
        Assert.That(e!.Step, Is.EqualTo(5));
        Assert.That(e.Message, Is.EqualTo($"interrupted at step 5; state saved to {TrainerState.PathFor(dir.File("resumed"))}; run the same command to resume"));
        Assert.That(Directory.Exists(dir.File("resumed")), Is.False, "no output model");
        Assert.That(TrainerState.Load(e.StatePath).Step, Is.EqualTo(5));

        var resumed = Merge("adamerging", dir.File("resumed"), set);
        Assert.That(File.Exists(e.StatePath), Is.False);
        using var a = JsonDocument.Parse(whole.ToJson());
        using var b = JsonDocument.Parse(resumed.ToJson());
        Assert.That(b.RootElement.GetProperty("lambdas").GetRawText(), Is.EqualTo(a.RootElement.GetProperty("lambdas").GetRawText()));
        Assert.That(b.RootElement.GetProperty("loss").GetRawText(), Is.EqualTo(a.RootElement.GetProperty("loss").GetRawText()));
        Assert.That(b.RootElement.GetProperty("loss").GetArrayLength(), Is.EqualTo(7));
        // The collapse diagnostics of steps 0, 2, 4 come back from the state; 6 and 7 are measured after resuming.
        var diagnostics = b.RootElement.GetProperty("results").GetProperty("diagnostics");
        Assert.That(diagnostics.EnumerateArray().Select(d => d.GetProperty("step").GetInt64()), Is.EqualTo(new long[] { 0, 2, 4, 6, 7 }));
        Assert.That(diagnostics.GetRawText(), Is.EqualTo(a.RootElement.GetProperty("results").GetProperty("diagnostics").GetRawText()));
        AssertSameBytes(dir.File("whole"), dir.File("resumed"));
    }

    [Test]
    public void StateOfOtherParametersIsRefused()
    {
        using var dir = Fixtures.NewTempDir();
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var e = Assert.Throws<MergeInterruptedException>(() => Merge("adamerging", dir.File("o"), new() { ["steps"] = "3" }, cancel: cancel.Token));
        Assert.That(e!.Step, Is.Zero);
        var bad = Assert.Throws<Amalgam.Kernels.BadInputException>(() => Merge("adamerging", dir.File("o"), new() { ["steps"] = "3", ["lr"] = "0.01" }));
        Assert.That(bad!.Message, Does.Contain(".adamerging-state.json").And.Contain("other inputs or parameters"));
    }

    [Test]
    public void OneAndTwoThreadsGiveTheSameBytes()
    {
        using var dir = Fixtures.NewTempDir();
        var set = new Dictionary<string, string> { ["steps"] = "4", ["batch_size"] = "8", ["ties_preprocess"] = "true" };
        var one = Merge("adamerging", dir.File("one"), set, threads: 1);
        var two = Merge("adamerging", dir.File("two"), set, threads: 2);
        AssertSameBytes(dir.File("one"), dir.File("two"));
        using var a = JsonDocument.Parse(one.ToJson());
        using var b = JsonDocument.Parse(two.ToJson());
        Assert.That(b.RootElement.GetProperty("lambdas").GetRawText(), Is.EqualTo(a.RootElement.GetProperty("lambdas").GetRawText()));
        Assert.That(a.RootElement.GetProperty("lambdas").GetProperty("params").GetArrayLength(), Is.EqualTo(32));
        Assert.That(b.RootElement.GetProperty("results").GetProperty("diagnostics").GetRawText(),
            Is.EqualTo(a.RootElement.GetProperty("results").GetProperty("diagnostics").GetRawText()));
    }

    /// <summary>objective=im with im_weight=0 is the paper's objective bit for bit; with the default weight 1 it trains elsewhere.</summary>
    [Test]
    public void InformationMaximisationWithZeroWeightIsTheEntropyRunBitForBit()
    {
        using var dir = Fixtures.NewTempDir();
        var set = new Dictionary<string, string> { ["steps"] = "4", ["batch_size"] = "8", ["lr"] = "0.05" };
        var entropy = Merge("adamerging", dir.File("entropy"), set);
        var zero = Merge("adamerging", dir.File("zero"), new(set) { ["objective"] = "im", ["im_weight"] = "0" });
        var im = Merge("adamerging", dir.File("im"), new(set) { ["objective"] = "im" });
        AssertSameBytes(dir.File("entropy"), dir.File("zero"));
        using var a = JsonDocument.Parse(entropy.ToJson());
        using var b = JsonDocument.Parse(zero.ToJson());
        using var c = JsonDocument.Parse(im.ToJson());
        Assert.That(b.RootElement.GetProperty("loss").GetRawText(), Is.EqualTo(a.RootElement.GetProperty("loss").GetRawText()));
        Assert.That(c.RootElement.GetProperty("results").GetProperty("objective").GetString(), Is.EqualTo("im"));
        // The marginal term lowers the loss by at least the batches' marginal entropies (positive).
        Assert.That(c.RootElement.GetProperty("loss")[0].GetDouble(), Is.LessThan(a.RootElement.GetProperty("loss")[0].GetDouble() - 1));
        Assert.That(c.RootElement.GetProperty("lambdas").GetRawText(), Is.Not.EqualTo(a.RootElement.GetProperty("lambdas").GetRawText()));
    }

    /// <summary>The diagnostics only read: with the probe off (probe_samples=0) the merge and its losses are the same bytes, and the report then has no measurements.</summary>
    [Test]
    public void DiagnosticsDoNotChangeTheMerge()
    {
        using var dir = Fixtures.NewTempDir();
        var set = new Dictionary<string, string> { ["steps"] = "3", ["batch_size"] = "8", ["lr"] = "0.05", ["checkpoint_every"] = "1" };
        var on = Merge("adamerging", dir.File("on"), set);
        var off = Merge("adamerging", dir.File("off"), new(set) { ["probe_samples"] = "0" });
        AssertSameBytes(dir.File("on"), dir.File("off"));
        using var a = JsonDocument.Parse(on.ToJson());
        using var b = JsonDocument.Parse(off.ToJson());
        Assert.That(b.RootElement.GetProperty("loss").GetRawText(), Is.EqualTo(a.RootElement.GetProperty("loss").GetRawText()));
        Assert.That(a.RootElement.GetProperty("results").GetProperty("diagnostics").GetArrayLength(), Is.EqualTo(4), "steps 0, 1, 2, 3");
        Assert.That(b.RootElement.GetProperty("results").GetProperty("diagnostics").GetArrayLength(), Is.Zero);
    }
}
