using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using static Amalgam.Engine.Tests.Methods.MethodReference;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>Every method writes the same bytes at --threads 1 and 2 (tensors span several chunks).</summary>
public class ThreadCountTests
{
    public static IEnumerable<TestCaseData> Methods()
    {
        yield return new TestCaseData("task_arithmetic", new Dictionary<string, string>());
        yield return new TestCaseData("ties", new Dictionary<string, string>());
        yield return new TestCaseData("ties", new Dictionary<string, string> { ["compat"] = "mergekit" });
        yield return new TestCaseData("ties", new Dictionary<string, string> { ["merge"] = "max", ["scope"] = "tensor" });
        yield return new TestCaseData("dare_linear", new Dictionary<string, string> { ["rescale"] = "l1" });
        yield return new TestCaseData("dare_ties", new Dictionary<string, string>());
        yield return new TestCaseData("breadcrumbs", new Dictionary<string, string>());
    }

    [TestCaseSource(nameof(Methods))]
    public void OneAndTwoThreadsGiveIdenticalFiles(string method, Dictionary<string, string> set)
    {
        using var dir = Fixtures.NewTempDir();
        var specs = TestModels.Mixed.Append(new Spec("g.large", DType.BF16, 300_001)).ToArray();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, specs, 3, seed: 401);
        Run(method, b, tasks, dir.File("t1.safetensors"), set, seed: 7, threads: 1);
        Run(method, b, tasks, dir.File("t2.safetensors"), set, seed: 7, threads: 2);
        Assert.That(File.ReadAllBytes(dir.File("t2.safetensors")), Is.EqualTo(File.ReadAllBytes(dir.File("t1.safetensors"))));
    }
}
