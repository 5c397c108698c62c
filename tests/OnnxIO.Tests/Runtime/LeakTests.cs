using System.Diagnostics;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>
/// Creating and disposing many sessions and runs returns every native object: resident memory stays
/// flat after a warm-up. The model carries a 1 MiB initializer and 1 MiB outputs, so leaking one
/// session per iteration or one output per run would grow by hundreds of MiB, far past the bound.
/// </summary>
[NonParallelizable]
public sealed class LeakTests
{
    private const int Width = 1 << 18; // floats per row: 1 MiB
    private const long AllowedGrowth = 50L << 20;

    private static long ResidentBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    private static float[] Weights()
    {
        var w = new float[Width];
        for (int i = 0; i < w.Length; i++) w[i] = i % 7;
        return w;
    }

    [Test]
    public void TwoHundredSessionsWithRunsDoNotGrowResidentMemory()
    {
        byte[] model = TinyOnnxModels.AddMul(Weights());
        using var x = Tensor.Allocate("x", DType.F32, [1, Width]);
        using var y = Tensor.Allocate("y", DType.F32, [1, Width]);
        var options = new SessionSettings { IntraOpThreads = 1 };

        void Cycle()
        {
            using var session = OnnxSession.FromBytes(model, options);
            using (var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = x }))
                Assert.That(outputs["y"].Read<float>(Width - 1, 1)[0], Is.EqualTo((Width - 1) % 7));
            session.Run(new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = y });
            using var bound = session.Bind(new Dictionary<string, Tensor> { ["x"] = x }, new Dictionary<string, Tensor> { ["y"] = y });
            bound.Run();
        }

        for (int i = 0; i < 20; i++) Cycle();
        long before = ResidentBytes();
        for (int i = 0; i < 200; i++) Cycle();
        long growth = ResidentBytes() - before;
        TestContext.Out.WriteLine($"resident growth over 200 sessions: {growth / 1024.0 / 1024.0:F1} MiB");
        Assert.That(growth, Is.LessThan(AllowedGrowth));
    }

    [Test]
    public void TwoThousandRunsOnOneSessionDoNotGrowResidentMemory()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(Weights()), new SessionSettings { IntraOpThreads = 1 });
        using var x = Tensor.Allocate("x", DType.F32, [1, Width]);
        var feed = new Dictionary<string, Tensor> { ["x"] = x };

        for (int i = 0; i < 50; i++) session.Run(feed).Dispose();
        long before = ResidentBytes();
        for (int i = 0; i < 2000; i++)
        {
            using var outputs = session.Run(feed);
            if (i % 500 == 0) Assert.That(outputs["z"].Read<float>(0, 1)[0], Is.EqualTo(0f));
        }
        long growth = ResidentBytes() - before;
        TestContext.Out.WriteLine($"resident growth over 2000 runs: {growth / 1024.0 / 1024.0:F1} MiB");
        Assert.That(growth, Is.LessThan(AllowedGrowth));
    }
}
