using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using static Amalgam.Engine.Tests.Methods.MethodReference;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>Every method writes the same bytes at --threads 1 and 2 (tensors span several chunks).</summary>
public class ThreadCountTests
{
    public static IEnumerable<TestCaseData> Methods()
    {
        TestCaseData Case(string method, string settings)
        {
            var set = settings.Length == 0 ? new Dictionary<string, string>()
                : settings.Split(';').ToDictionary(kv => kv.Split('=')[0], kv => kv.Split('=')[1]);
            return new TestCaseData(method, set).SetName($"{method} {settings}".Trim());
        }
        yield return Case("task_arithmetic", "");
        yield return Case("ties", "");
        yield return Case("ties", "compat=mergekit");
        yield return Case("ties", "merge=max;scope=tensor");
        yield return Case("ties", "compat=paper;zero_sign=plus");
        yield return Case("dare_linear", "rescale=l1");
        yield return Case("dare_linear", "rescale=inverse");
        yield return Case("dare_ties", "");
        yield return Case("dare_ties", "compat=mergekit;rescale=l1");
        yield return Case("breadcrumbs", "");
        yield return Case("average", "");
        yield return Case("pcb", "");
        yield return Case("consensus", "");
    }

    [TestCaseSource(nameof(Methods))]
    public void OneAndTwoThreadsGiveIdenticalFiles(string method, Dictionary<string, string> set)
    {
        using var dir = Fixtures.NewTempDir();
        var specs = TestModels.Mixed.Append(new Spec("g.large", DType.BF16, 300_001)).Append(new Spec("h.empty", DType.F32, 0, 4)).ToArray();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, specs, 3, seed: 401);
        Run(method, b, tasks, dir.File("t1.safetensors"), set, seed: 7, threads: 1);
        Run(method, b, tasks, dir.File("t2.safetensors"), set, seed: 7, threads: 2);
        Assert.That(File.ReadAllBytes(dir.File("t2.safetensors")), Is.EqualTo(File.ReadAllBytes(dir.File("t1.safetensors"))));
    }
}
