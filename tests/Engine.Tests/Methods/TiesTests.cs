using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using static Amalgam.Engine.Tests.Methods.MethodReference;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>TIES through Merger.Merge against the f64 reference, and compat modes on hand-computed cases.</summary>
public class TiesTests
{
    private static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    public static IEnumerable<TestCaseData> Options()
    {
        yield return new TestCaseData(new Dictionary<string, string>(), new TiesSettings()).SetName("defaults (fusionbench: global, majority, sum, 0.3)");
        yield return new TestCaseData(new Dictionary<string, string> { ["k"] = "0.35", ["zero_sign"] = "plus", ["merge"] = "max", ["weights"] = "1,0.5,2" },
            new TiesSettings(K: 0.35, Majority: false, Merge: "max", Weights: [1, 0.5, 2])).SetName("global plus max weighted");
        yield return new TestCaseData(new Dictionary<string, string> { ["compat"] = "paper", ["k"] = "1" },
            new TiesSettings(K: 1, Merge: "mean", Lambda: 1)).SetName("paper (global, mean, lambda 1), k=1 keeps all");
        yield return new TestCaseData(new Dictionary<string, string> { ["compat"] = "mergekit", ["weights"] = "1,0.5,2", ["k"] = "0.5" },
            new TiesSettings(K: 0.5, Global: false, Majority: false, Merge: "mean", Lambda: 1, Weights: [1, 0.5, 2])).SetName("mergekit (tensor, plus, weighted mean, lambda 1)");
        yield return new TestCaseData(new Dictionary<string, string> { ["scope"] = "tensor", ["merge"] = "sum", ["lambda"] = "0.7" },
            new TiesSettings(Global: false, Lambda: 0.7)).SetName("tensor scope, majority, sum");
        yield return new TestCaseData(new Dictionary<string, string> { ["compat"] = "mergekit", ["zero_sign"] = "majority", ["merge"] = "max", ["lambda"] = "0.5" },
            new TiesSettings(Global: false, Merge: "max", Lambda: 0.5)).SetName("mergekit with explicit overrides");
    }

    [TestCaseSource(nameof(Options))]
    public void MatchesTheF64ReferenceOnMixedCheckpoints(Dictionary<string, string> set, TiesSettings s)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 101);
        var m = Read(b, tasks);
        var taus = Enumerable.Range(0, 3).Select(k => m.Names.ToDictionary(n => n, n => m.Tau(k, n))).ToList();
        Run("ties", b, tasks, dir.File("out.safetensors"), set);
        var w = s.Weights ?? [1, 1, 1];
        AssertClose(dir.File("out.safetensors"), Ties(m, taus, s), (n, i) => Scale(m, taus, n, i, s.Lambda, w));
    }

    // Hand-computed 3-task case over one 5-entry tensor (base + tau exact in f32). Task vectors:
    //   t1 = [ 3, -2, -1, 0.5, -0.25]   t2 = [-3, 2, -1, 4, 0.5]   t3 = [0, -1, -2, -1, -3]
    // Global, k = 0.5: d = 5, rank floor(2.5) + 1 = 3; thresholds 1, 2, 1 (t3 keeps both 1s):
    //   t1 -> [3, -2, -1, 0, 0]   t2 -> [-3, 2, 0, 4, 0]   t3 -> [0, -1, -2, -1, -3]
    //   sums [0, -1, -3, 3, -3]: gamma [0, -, -, +, -], majority sum(gamma) = -2 -> entry 0 uses -1.
    // Tensor, k = 0.5: keep 2 each: t1 -> [3, -2, 0, 0, 0], t2 -> [-3, 0, 0, 4, 0], t3 -> [0, 0, -2, 0, -3].
    private static readonly double[] Base = [0.5, -1, 2, 0, 1];
    private static readonly double[][] Taus = [[3, -2, -1, 0.5, -0.25], [-3, 2, -1, 4, 0.5], [0, -1, -2, -1, -3]];

    public static IEnumerable<TestCaseData> HandCases()
    {
        // fusionbench (global, majority, sum, lambda 0.3): entry 0 elects -1 -> -3.
        yield return new TestCaseData("compat=fusionbench", new[] { -3.0, -3, -3, 4, -3 }, 0.3);
        // zero_sign=plus: entry 0 elects +1 -> 3.
        yield return new TestCaseData("compat=fusionbench;zero_sign=plus", new[] { 3.0, -3, -3, 4, -3 }, 0.3);
        // max: largest agreeing |v|.
        yield return new TestCaseData("merge=max", new[] { -3.0, -2, -2, 4, -3 }, 0.3);
        // paper (global, majority, mean, lambda 1): means over agreeing entries.
        yield return new TestCaseData("compat=paper", new[] { -3.0, -1.5, -1.5, 4, -3 }, 1.0);
        // mergekit (tensor keep 2, plus, weights 1,1,2 before electing, sum v / sum w over agreeing, lambda 1):
        //   v = [3,-2,0,0,0], [-3,0,0,4,0], [0,0,-4,0,-6]; sums [0,-2,-4,4,-6]: entry 0 ties -> +1 -> 3/1.
        yield return new TestCaseData("compat=mergekit;weights=1,1,2", new[] { 3.0, -2, -2, 4, -3 }, 1.0);
        // tensor scope with majority: sum(gamma) = 0 - 1 - 1 + 1 - 1 = -2 -> entry 0 uses -1; sum merge of weighted v.
        yield return new TestCaseData("scope=tensor;weights=1,1,2", new[] { -3.0, -2, -4, 4, -6 }, 0.3);
    }

    [TestCaseSource(nameof(HandCases))]
    public void CompatModesOnAHandComputedThreeTaskCaseWithSignTies(string settings, double[] merged, double lambda)
    {
        using var dir = Fixtures.NewTempDir();
        var spec = new Spec("w", DType.F32, 5);
        TestModels.Write(dir.File("base.safetensors"), [spec], [Base.Select(x => (float)x).ToArray()]);
        var tasks = Taus.Select((t, k) =>
        {
            string p = dir.File($"t{k}.safetensors");
            TestModels.Write(p, [spec], [t.Select((x, i) => (float)(Base[i] + x)).ToArray()]);
            return p;
        }).ToArray();
        var set = new Dictionary<string, string> { ["k"] = "0.5" };
        foreach (string kv in settings.Split(';')) set[kv.Split('=')[0]] = kv.Split('=')[1];
        Run("ties", dir.File("base.safetensors"), tasks, dir.File("out.safetensors"), set);
        var actual = TestModels.ReadSafetensors(dir.File("out.safetensors"))["w"];
        for (int i = 0; i < 5; i++)
            Assert.That(actual[i], Is.EqualTo(Base[i] + lambda * merged[i]).Within(1e-6 * (Math.Abs(Base[i]) + Math.Abs(lambda * merged[i]))), $"w[{i}]");
    }

    [TestCase("majority", -1.0)]
    [TestCase("plus", 1.0)]
    public void MajorityOfAModelWhoseSignsCancelIsMinusOne(string zeroSign, double expected0)
    {
        // k = 1 keeps everything. t1 = [1, 2, -3], t2 = [-1, -1, 1]: sums [0, 1, -2], gamma [0, +, -], sum(gamma) = 0.
        // AdaMerging/FusionBench: sign(0) = 0 stays, and where(sign > 0, T > 0, T < 0) keeps the negative entries: -1.
        using var dir = Fixtures.NewTempDir();
        var spec = new Spec("w", DType.F32, 3);
        TestModels.Write(dir.File("base.safetensors"), [spec], [new float[3]]);
        TestModels.Write(dir.File("t1.safetensors"), [spec], [new float[] { 1, 2, -3 }]);
        TestModels.Write(dir.File("t2.safetensors"), [spec], [new float[] { -1, -1, 1 }]);
        var result = Run("ties", dir.File("base.safetensors"), [dir.File("t1.safetensors"), dir.File("t2.safetensors")], dir.File("out.safetensors"),
            new() { ["k"] = "1", ["lambda"] = "1", ["zero_sign"] = zeroSign });
        Assert.That(TestModels.ReadSafetensors(dir.File("out.safetensors"))["w"], Is.EqualTo(new[] { expected0, 2, -3 }));
    }

    [Test]
    public void ReportHoldsThresholdsKeptFractionsAndMajoritySign()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 102);
        var m = Read(b, tasks);
        var result = Run("ties", b, tasks, dir.File("out.safetensors"), new() { ["k"] = "0.3" });
        using var doc = JsonDocument.Parse(result.MethodResultsJson);
        var root = doc.RootElement;
        long d = m.Names.Sum(n => m.Base[n].Length);
        Assert.That(root.GetProperty("global_entries").GetInt64(), Is.EqualTo(d));
        Assert.That(root.GetProperty("threshold_rank").GetInt64(), Is.EqualTo((long)Math.Floor(0.3 * d) + 1));
        var thresholds = root.GetProperty("thresholds").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var kept = root.GetProperty("kept_fractions").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int k = 0; k < 2; k++)
        {
            var mags = m.Names.SelectMany(n => m.Tau(k, n)).Select(Math.Abs).OrderByDescending(a => a).ToArray();
            double threshold = mags[(int)Math.Floor(0.3 * d)];
            Assert.That((float)thresholds[k], Is.EqualTo((float)threshold), $"threshold of task {k} (an f32 value)");
            Assert.That(kept[k], Is.EqualTo((double)mags.Count(a => a >= threshold && a != 0) / d).Within(1e-12), $"kept fraction of task {k}");
        }
        Assert.That(root.GetProperty("majority_sign").GetInt32(), Is.AnyOf(1, -1));
    }

    [Test]
    public void CompatPresetsShowInTheEffectiveParameters()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, [new Spec("x", DType.F32, 9)], 2, seed: 103);
        var result = Run("ties", b, tasks, dir.File("out.safetensors"), new() { ["compat"] = "mergekit", ["lambda"] = "0.8" });
        var p = result.Parameters.ToDictionary(e => e.Name, e => e.Value);
        Assert.That(p["scope"], Is.EqualTo("tensor"));
        Assert.That(p["zero_sign"], Is.EqualTo("plus"));
        Assert.That(p["merge"], Is.EqualTo("mean"));
        Assert.That(p["lambda"], Is.EqualTo(0.8), "a user value beats the preset");
        var dflt = Run("ties", b, tasks, dir.File("out2.safetensors")).Parameters.ToDictionary(e => e.Name, e => e.Value);
        Assert.That((dflt["compat"], dflt["scope"], dflt["zero_sign"], dflt["merge"], dflt["lambda"], dflt["k"]),
            Is.EqualTo(("fusionbench", "global", "majority", "sum", (object)0.3, (object)0.2)));
    }
}
