using System.Runtime.InteropServices;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>
/// Where a run's intermediates come from decides how many fresh pages the kernel must zero per run
/// (system time; issue 14): counted as this thread's minor page faults (getrusage RUSAGE_THREAD; with
/// one intra-op thread ORT runs on the calling thread). The model's intermediate is 40 MiB, above
/// glibc's largest mmap threshold, so without an arena each run maps and faults it afresh.
/// </summary>
[NonParallelizable]
public sealed class CpuMemoryTests
{
    private const int N = 10 << 20;              // floats: 40 MiB
    private const long Pages = N * 4L / 4096;    // pages of the intermediate
    private const int Runs = 6;

    [Test]
    public void WithoutAnArenaEveryRunFaultsItsIntermediateAfresh()
    {
        using var fixture = new Fixture();
        using var session = fixture.Session(CpuMemory.NoArena);
        long faults = fixture.FaultsOverRuns(session);
        TestContext.Out.WriteLine($"no arena: {faults / (double)Runs:F0} faults per run, intermediate {Pages} pages");
        Assert.That(faults, Is.GreaterThan(Runs * Pages / 2));
    }

    [TestCase(CpuMemory.SessionArena)]
    [TestCase(CpuMemory.SharedArena)]
    public void AnArenaReusesTheIntermediateAfterTheFirstRun(CpuMemory memory)
    {
        using var fixture = new Fixture();
        using var session = fixture.Session(memory);
        long faults = fixture.FaultsOverRuns(session);
        TestContext.Out.WriteLine($"{memory}: {faults / (double)Runs:F0} faults per run, intermediate {Pages} pages");
        Assert.That(faults, Is.LessThan(Runs * Pages / 20));
    }

    /// <summary>What AdaMerging relies on: K sessions run in turn share one working set, so a new session's first run finds its memory ready.</summary>
    [Test]
    public void SessionsOnTheSharedArenaReuseEachOthersMemory()
    {
        using var fixture = new Fixture();
        using (var first = fixture.Session(CpuMemory.SharedArena)) fixture.FaultsOverRuns(first);
        using var second = fixture.Session(CpuMemory.SharedArena);
        long faults = fixture.FaultsOverRuns(second, warmUp: 0);
        TestContext.Out.WriteLine($"a second session on the shared arena: {faults / (double)Runs:F0} faults per run from its first run on");
        Assert.That(faults, Is.LessThan(Runs * Pages / 20));
    }

    private sealed class Fixture : IDisposable
    {
        private readonly byte[] _model;
        private readonly Tensor _x = Tensor.Allocate("x", DType.F32, [N]);
        private readonly Tensor _y = Tensor.Allocate("y", DType.F32, [N]);
        private readonly float[] _w = new float[N];

        public Fixture()
        {
            var x = _x.Write<float>();
            for (int i = 0; i < N; i++) (x[i], _w[i]) = (i % 5, i % 3);
            _y.Write<float>().Clear();   // touch the output once: its pages are ours, not the run's
            _model = TinyOnnxModels.SquareOfSum(_w);
        }

        public OnnxSession Session(CpuMemory memory) => OnnxSession.FromBytes(_model,
            new SessionSettings { IntraOpThreads = 1, OptimizationLevel = GraphOptimization.Disabled, Memory = memory });

        /// <summary>This thread's minor faults over <see cref="Runs"/> bound runs after <paramref name="warmUp"/> runs; checks y every run.</summary>
        public long FaultsOverRuns(OnnxSession session, int warmUp = 1)
        {
            using var run = session.Bind(new Dictionary<string, Tensor> { ["x"] = _x }, new Dictionary<string, Tensor> { ["y"] = _y });
            for (int i = 0; i < warmUp; i++) run.Run();
            long before = ThreadMinorFaults();
            for (int r = 0; r < Runs; r++)
            {
                run.Run();
                int probe = (r * 7919 + 13) % N;
                float t = probe % 5 + probe % 3;
                Assert.That(_y.Read<float>(probe, 1)[0], Is.EqualTo(t * t));
            }
            return ThreadMinorFaults() - before;
        }

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
        }
    }

    private static long ThreadMinorFaults()
    {
        const int RusageThread = 1;
        var usage = new long[18];   // struct rusage: two timevals (4 longs), then maxrss, ixrss, idrss, isrss, minflt, ...
        if (getrusage(RusageThread, usage) != 0) throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        return usage[8];
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, [Out] long[] usage);
}
