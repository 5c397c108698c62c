using System.Globalization;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using static Amalgam.Engine.Tests.Methods.MethodReference;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>dare_linear and dare_ties against the f64 reference, plus the statistics of the drop.</summary>
public class DareTests
{
    private const ulong Seed = 0x5EED_1234_0000_0042UL;

    private static List<Dictionary<string, double[]>> Dropped(Models m, double p, string rescale, ulong seed) =>
        Enumerable.Range(0, m.K).Select(k => m.Names.ToDictionary(n => n, n =>
        {
            var tau = m.Tau(k, n);
            return Dare(tau, DareKeep(seed, k, n, tau.Length, p), rescale, p);
        })).ToList();

    [TestCase(0.5, "inverse")]
    [TestCase(0.3, "l1")]
    [TestCase(0.7, "none")]
    [TestCase(0.0, "inverse")]
    public void DareLinearMatchesTheF64Reference(double p, string rescale)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 201);
        var m = Read(b, tasks);
        double[] w = [1, 0.5, 2];
        Run("dare_linear", b, tasks, dir.File("out.safetensors"),
            new() { ["p"] = p.ToString(CultureInfo.InvariantCulture), ["rescale"] = rescale, ["weights"] = "1,0.5,2" }, Seed);
        var taus = Dropped(m, p, rescale, Seed);
        AssertClose(dir.File("out.safetensors"), Linear(m, taus, 0.3, w), (n, i) => Scale(m, taus, n, i, 0.3, w));
    }

    [TestCase("global", "inverse")]
    [TestCase("tensor", "l1")]
    public void DareTiesMatchesTheF64Reference(string scope, string rescale)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 202);
        var m = Read(b, tasks);
        Run("dare_ties", b, tasks, dir.File("out.safetensors"), new() { ["p"] = "0.4", ["rescale"] = rescale, ["scope"] = scope, ["k"] = "0.5" }, Seed);
        var taus = Dropped(m, 0.4, rescale, Seed);
        var s = new TiesSettings(K: 0.5, Global: scope == "global", Lambda: 0.5);
        AssertClose(dir.File("out.safetensors"), Ties(m, taus, s), (n, i) => Scale(m, taus, n, i, 0.5, [1, 1, 1]));
    }

    [Test]
    public void DareTiesDefaultsAreKPoint2SumLambdaPoint5()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, [new Spec("x", DType.F32, 9)], 2, seed: 203);
        var p = Run("dare_ties", b, tasks, dir.File("out.safetensors")).Parameters.ToDictionary(e => e.Name, e => e.Value);
        Assert.That((p["p"], p["rescale"], p["k"], p["merge"], p["lambda"], p["scope"]), Is.EqualTo(((object)0.5, "inverse", (object)0.2, "sum", (object)0.5, "global")));
        var q = Run("dare_linear", b, tasks, dir.File("out2.safetensors")).Parameters.ToDictionary(e => e.Name, e => e.Value);
        Assert.That((q["p"], q["rescale"], q["lambda"]), Is.EqualTo(((object)0.5, "inverse", (object)0.3)));
    }

    /// <summary>One task, base 0, tau = 0.25 everywhere in two tensors of 500 000 entries (10^6 in all).</summary>
    private static (string Base, string Task) ConstantModel(string dir, float value = 0.25f)
    {
        Spec[] specs = [new("m.a", DType.F32, 500_000), new("m.b", DType.F32, 500_000)];
        TestModels.Write(Path.Combine(dir, "base.safetensors"), specs, specs.Select(s => new float[s.Count]).ToArray());
        TestModels.Write(Path.Combine(dir, "task.safetensors"), specs, specs.Select(s => Enumerable.Repeat(value, (int)s.Count).ToArray()).ToArray());
        return (Path.Combine(dir, "base.safetensors"), Path.Combine(dir, "task.safetensors"));
    }

    [TestCase(0.5)]
    [TestCase(0.9)]
    public void KeptFractionAndExpectedValueOverAMillionEntries(double p)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, t) = ConstantModel(dir.Path);
        Run("dare_linear", b, [t], dir.File("out.safetensors"), new() { ["p"] = p.ToString(CultureInfo.InvariantCulture), ["lambda"] = "1" }, Seed);
        var merged = TestModels.ReadSafetensors(dir.File("out.safetensors"));
        var all = merged["m.a"].Concat(merged["m.b"]).ToArray();
        const int n = 1_000_000;
        double sigma = Math.Sqrt(n * p * (1 - p));
        long kept = all.Count(v => v != 0);
        Assert.That(Math.Abs(kept - n * (1 - p)), Is.LessThanOrEqualTo(4 * sigma), $"kept {kept} of {n}");
        // Every survivor is 0.25 / (1 - p); the mean estimates E[tau'] = 0.25 with sd 0.25 sqrt(p / ((1-p) n)).
        Assert.That(all.Where(v => v != 0).Distinct().Single(), Is.EqualTo((float)(0.25f * (float)(1 / (1 - p)))).Within(1e-9));
        double mean = all.Average();
        Assert.That(Math.Abs(mean - 0.25), Is.LessThanOrEqualTo(4 * 0.25 * Math.Sqrt(p / ((1 - p) * n))), $"mean {mean}");
    }

    [Test]
    public void DifferentTensorsAndTasksGetIndependentMasks()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, t) = ConstantModel(dir.Path);
        File.Copy(t, dir.File("task2.safetensors"));
        Run("dare_linear", b, [t, dir.File("task2.safetensors")], dir.File("out.safetensors"), new() { ["p"] = "0.5", ["lambda"] = "1", ["rescale"] = "none" }, Seed);
        var merged = TestModels.ReadSafetensors(dir.File("out.safetensors"));
        // Per element: 0, 0.25 or 0.5 = how many of the two task masks kept it.
        double[] a = merged["m.a"], bb = merged["m.b"];
        const int n = 500_000;
        // Tasks independent: P(both kept) = 1/4, P(one) = 1/2.
        long both = a.Count(v => v == 0.5), one = a.Count(v => v == 0.25);
        Assert.That(Math.Abs(both - n / 4.0), Is.LessThanOrEqualTo(4 * Math.Sqrt(n * 0.25 * 0.75)), "tasks share a mask");
        Assert.That(Math.Abs(one - n / 2.0), Is.LessThanOrEqualTo(4 * Math.Sqrt(n * 0.5 * 0.5)));
        // Tensors independent: the two tensors' per-element states agree as often as independent draws would
        // (P(equal) = 1/16 + 1/4 + 1/16 = 3/8), not always.
        long equal = Enumerable.Range(0, n).Count(i => a[i] == bb[i]);
        Assert.That(Math.Abs(equal - n * 0.375), Is.LessThanOrEqualTo(4 * Math.Sqrt(n * 0.375 * 0.625)), "tensors share a mask");
    }

    [Test]
    public void SameSeedSameBytesAtOneAndTwoThreadsAndAnotherSeedDiffers()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, t) = ConstantModel(dir.Path);
        foreach (string method in new[] { "dare_linear", "dare_ties" })
        {
            Run(method, b, [t], dir.File("t1.safetensors"), new() { ["rescale"] = "l1" }, Seed, threads: 1);
            Run(method, b, [t], dir.File("t2.safetensors"), new() { ["rescale"] = "l1" }, Seed, threads: 2);
            Run(method, b, [t], dir.File("s2.safetensors"), new() { ["rescale"] = "l1" }, Seed + 1, threads: 2);
            byte[] one = File.ReadAllBytes(dir.File("t1.safetensors"));
            Assert.That(File.ReadAllBytes(dir.File("t2.safetensors")), Is.EqualTo(one), method);
            Assert.That(File.ReadAllBytes(dir.File("s2.safetensors")), Is.Not.EqualTo(one), $"{method}: the seed changes the mask");
        }
    }
}
