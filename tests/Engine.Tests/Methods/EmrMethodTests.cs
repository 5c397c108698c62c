using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// emr through the merger against a float64 implementation of the spec (elect, mask, rescale with
/// lambda_i = sum over tensors of mean|tau_i| / mean|M_i tau_uni|), its identity (equal task vectors
/// give back each task's model), one model per task without --private, and the zero-sum tie rule.
/// </summary>
public sealed class EmrMethodTests
{
    private static readonly Spec[] Specs =
    [
        new("a.weight", DType.F32, 7, 13),
        new("a.bias", DType.F32, 13),
        new("b.norm", DType.F32, 29),
    ];

    [Test]
    public void EachTaskModelIsTheFloat64ElectMaskRescale()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, Specs, 3, seed: 23);
        var result = Merger.Merge(new MergeRequest { Method = "emr", Base = b, Models = tasks, Out = dir.File("out") });
        Assert.That(result.Outputs, Has.Count.EqualTo(3));
        var theta0 = TestModels.ReadSafetensors(b);
        var thetas = tasks.Select(TestModels.ReadSafetensors).ToArray();
        // float64 reference
        var taus = Specs.ToDictionary(s => s.Name, s => thetas.Select(t => t[s.Name].Zip(theta0[s.Name], (x, y) => x - y).ToArray()).ToArray());
        var flag = new Dictionary<string, double[]>();
        var uni = new Dictionary<string, double[]>();
        double[] num = new double[3], den = new double[3];
        foreach (var s in Specs)
        {
            var t = taus[s.Name];
            int n = t[0].Length;
            flag[s.Name] = Enumerable.Range(0, n).Select(j => t.Sum(x => x[j]) > 0 ? 1.0 : -1.0).ToArray();
            uni[s.Name] = Enumerable.Range(0, n).Select(j => flag[s.Name][j] * t.Select(x => x[j] * flag[s.Name][j] > 0 ? Math.Abs(x[j]) : 0).Max()).ToArray();
            for (int i = 0; i < 3; i++)
            {
                num[i] += t[i].Average(Math.Abs);
                den[i] += Enumerable.Range(0, n).Average(j => t[i][j] * flag[s.Name][j] > 0 ? Math.Abs(uni[s.Name][j]) : 0);
            }
        }
        for (int i = 0; i < 3; i++)
        {
            double lambda = num[i] / den[i];
            var got = TestModels.ReadSafetensors(result.Outputs[i]);
            foreach (var s in Specs)
            {
                var t = taus[s.Name][i];
                for (int j = 0; j < t.Length; j++)
                {
                    double want = theta0[s.Name][j] + lambda * (t[j] * flag[s.Name][j] > 0 ? uni[s.Name][j] : 0);
                    Assert.That(got[s.Name][j], Is.EqualTo(want).Within(1e-5 * Math.Max(1, Math.Abs(want))), $"task {i} {s.Name}[{j}]");
                }
            }
        }
    }

    [Test]
    public void EqualTaskVectorsGiveBackEachModel()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, Specs, 1, seed: 9);
        string[] same = [tasks[0], tasks[0], tasks[0]];
        var result = Merger.Merge(new MergeRequest { Method = "emr", Base = b, Models = same, Out = dir.File("out") });
        var want = TestModels.ReadSafetensors(tasks[0]);
        foreach (string model in result.Outputs)
        {
            var got = TestModels.ReadSafetensors(model);
            foreach (var s in Specs)
                for (int j = 0; j < want[s.Name].Length; j++) Assert.That(got[s.Name][j], Is.EqualTo(want[s.Name][j]).Within(1e-6), $"{s.Name}[{j}]");
        }
    }

    [Test]
    public void AZeroSumElectsMinusOneAndKeepsNothing()
    {
        float[][] taus = [[0f, 1f, -2f], [0f, -1f, 3f]];   // sums 0, 0, 1
        var flag = new float[3];
        var unified = new float[3];
        EmrMerge.Elect(taus, flag, unified);
        Assert.That(flag, Is.EqualTo(new[] { -1f, -1f, 1f }));
        Assert.That(unified, Is.EqualTo(new[] { 0f, -1f, 3f }));
    }

    [Test]
    public void AnOutputFileIsRefusedBecauseEachTaskGetsItsOwnModel()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, Specs, 2, seed: 3);
        File.WriteAllText(dir.File("out.safetensors"), "x");
        var e = Assert.Throws<BadInputException>(() => Merger.Merge(new MergeRequest { Method = "emr", Base = b, Models = tasks, Out = dir.File("out.safetensors") }))!;
        Assert.That(e.Message, Does.Contain("one model per task").And.Contain("folder"));
        Assert.That(File.ReadAllText(dir.File("out.safetensors")), Is.EqualTo("x"));
    }
}
