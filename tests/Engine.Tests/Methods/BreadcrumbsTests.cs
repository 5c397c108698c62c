using System.Globalization;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using static Amalgam.Engine.Tests.Methods.MethodReference;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>Model Breadcrumbs against the f64 reference (full sorts) and hand-computed drop counts.</summary>
public class BreadcrumbsTests
{
    [TestCase(0.01, 0.9, 0.3, null)]
    [TestCase(0.1, 0.5, 0.8, "1,0.5,2")]
    [TestCase(0.0, 0.7, 0.3, null)]          // n_top = 0 drops nothing at the top
    [TestCase(0.3, 0.9, 0.3, null)]          // n_bot < 0: n_top shrinks
    [TestCase(0.0, 1.0, 1.0, null)]          // keeps everything: task arithmetic
    public void MatchesTheF64ReferenceOnMixedCheckpoints(double gamma, double density, double lambda, string? weights)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 301);
        var m = Read(b, tasks);
        var set = new Dictionary<string, string>
        {
            ["gamma"] = gamma.ToString(CultureInfo.InvariantCulture),
            ["density"] = density.ToString(CultureInfo.InvariantCulture),
            ["lambda"] = lambda.ToString(CultureInfo.InvariantCulture),
        };
        if (weights is not null) set["weights"] = weights;
        double[] w = weights?.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray() ?? [1, 1, 1];
        Run("breadcrumbs", b, tasks, dir.File("out.safetensors"), set);
        var taus = Enumerable.Range(0, 3).Select(k => m.Names.ToDictionary(n => n, n => Breadcrumbs(m.Tau(k, n), gamma, density))).ToList();
        AssertClose(dir.File("out.safetensors"), Linear(m, taus, lambda, w), (n, i) => Scale(m, taus, n, i, lambda, w));
    }

    // N = 10: gamma 0.1, density 0.7 -> n_top 1, target 7, n_bot 2. gamma 0.2, density 0.9 -> n_top 2, target 9,
    // n_bot -1 -> n_top 1, n_bot 0. gamma 0, density 0.5 -> 0, 5, 5.
    [TestCase(10, 0.1, 0.7, 2, 1)]
    [TestCase(10, 0.2, 0.9, 0, 1)]
    [TestCase(10, 0.0, 0.5, 5, 0)]
    [TestCase(1, 0.01, 0.9, 1, 0)]
    public void DropCounts(long n, double gamma, double density, long bottom, long top) =>
        Assert.That(Amalgam.Engine.Methods.BreadcrumbsMethod.Counts(n, gamma, density), Is.EqualTo((bottom, top)));

    [Test]
    public void HandComputedDropWithEqualMagnitudes()
    {
        // tau = [1, -5, 2, 5, -3, 0.5, 4, -2, 0, 1]; N = 10, gamma 0.1, density 0.7: drop the top 1 (the -5 at
        // index 1: equal |5| at index 3 ranks lower) and the bottom 2 (0 and 0.5) -> survivors shown below.
        using var dir = Fixtures.NewTempDir();
        var spec = new Spec("v", DType.F32, 10);
        float[] tau = [1, -5, 2, 5, -3, 0.5f, 4, -2, 0, 1];
        TestModels.Write(dir.File("base.safetensors"), [spec], [new float[10]]);
        TestModels.Write(dir.File("t.safetensors"), [spec], [tau]);
        Run("breadcrumbs", dir.File("base.safetensors"), [dir.File("t.safetensors")], dir.File("out.safetensors"),
            new() { ["gamma"] = "0.1", ["density"] = "0.7", ["lambda"] = "1" });
        Assert.That(TestModels.ReadSafetensors(dir.File("out.safetensors"))["v"], Is.EqualTo(new double[] { 1, 0, 2, 5, -3, 0, 4, -2, 0, 1 }));
    }
}
