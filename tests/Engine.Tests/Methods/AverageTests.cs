using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>average: theta = sum_k w_k theta_k / sum_k w_k, against f64 loops.</summary>
public class AverageTests
{
    [TestCase(null)]
    [TestCase("1,0.5,2")]
    [TestCase("2,-0.5,1")]
    public void MatchesTheF64Reference(string? weights)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 31);
        var run = MethodRun.Run(dir.Path, "average", b, tasks, TestModels.Mixed, weights is null ? null : MethodRun.Set(("weights", weights)));
        double[] w = weights?.Split(',').Select(double.Parse).ToArray() ?? [1, 1, 1];
        run.AssertMatches((name, i) =>
        {
            double sum = 0, scale = 0, wsum = 0;
            for (int k = 0; k < run.K; k++)
            {
                sum += w[k] * run.Thetas[k][name][i];
                scale += Math.Abs(w[k] * run.Thetas[k][name][i]);
                wsum += w[k];
            }
            return (sum / wsum, scale / Math.Abs(wsum));
        }, 1e-6);
        Assert.That(run.Result.Parameters.Single(p => p.Name == "weights").Value, Is.EqualTo(w));
    }

    [Test]
    public void WeightsSummingToZeroAreAOneLineError()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 32);
        var e = Assert.Throws<BadInputException>(() => MethodRun.Merge("average", b, tasks, dir.File("o.safetensors"), MethodRun.Set(("weights", "1,-1"))));
        Assert.That(e!.Message, Does.Contain("weights").And.Not.Contain("\n"));
        Assert.That(File.Exists(dir.File("o.safetensors")), Is.False);
    }
}
