using Amalgam.Engine.Tests.Support;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>Same inputs, 1 or 2 threads: byte-identical output files (e.big spans two chunks).</summary>
public class ThreadCountTests
{
    [TestCase("average")]
    [TestCase("pcb")]
    [TestCase("consensus")]
    public void OneAndTwoThreadsGiveIdenticalBytes(string method)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 3, seed: 70);
        MethodRun.Merge(method, b, tasks, dir.File("one.safetensors"), threads: 1);
        MethodRun.Merge(method, b, tasks, dir.File("two.safetensors"), threads: 2);
        Assert.That(File.ReadAllBytes(dir.File("two.safetensors")), Is.EqualTo(File.ReadAllBytes(dir.File("one.safetensors"))));
    }
}
