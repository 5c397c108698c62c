using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>How far ORT rewrites the graph before running it (ORT's <c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimization { Disabled = 0, Basic = 1, Extended = 2, All = 99 }

/// <summary>Where a session's intermediate CPU tensors come from.</summary>
public enum CpuMemory
{
    /// <summary>ORT's default: the session's own arena, which keeps the session's peak working set after a run.</summary>
    SessionArena,

    /// <summary>
    /// One arena for the whole process (registered with ORT's environment), shared by every session
    /// that asks for it: memory is reused across runs (no page faults on every run, unlike
    /// <see cref="NoArena"/>) and across sessions run in turn (one working set per concurrent run,
    /// not per session, unlike <see cref="SessionArena"/>). ORT's memory patterns are off for these
    /// sessions: a pattern's block is allocated once more after the first run, which grew the arena
    /// a second time. The arena keeps its peak until the process ends.
    /// </summary>
    SharedArena,

    /// <summary>No arena: every intermediate is malloc'd and freed in each run (large ones are fresh mmaps each time).</summary>
    NoArena,
}

/// <summary>
/// How to build a session. A plain description; the official binding's <see cref="Ort.SessionOptions"/> is
/// made from it when a session is created and released right after.
/// </summary>
public sealed record SessionSettings
{
    public const string NoCudaMessage = "--device cuda: this build's ONNX Runtime has no CUDA provider";

    /// <summary>Threads used inside one operator (0 = ORT's default, one per physical core; 1 = the calling thread only).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads that run independent operators at once; only used with <see cref="ParallelExecution"/>.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Run independent graph branches concurrently (ORT_PARALLEL) instead of in order (ORT_SEQUENTIAL).</summary>
    public bool ParallelExecution { get; init; }

    public GraphOptimization OptimizationLevel { get; init; } = GraphOptimization.All;

    /// <summary>Where intermediate CPU tensors come from (see <see cref="CpuMemory"/>); ORT's per-session arena by default.</summary>
    public CpuMemory Memory { get; init; } = CpuMemory.SessionArena;

    /// <summary>Where the graph runs: the CPU provider, or ORT's CUDA provider on device <c>Id</c>.</summary>
    public ComputeDevice Device { get; init; } = ComputeDevice.Cpu;

    internal Ort.SessionOptions CreateNative()
    {
        if (IntraOpThreads < 0) throw new BadInputException($"intra-op threads must be 0 (ORT's default) or more, not {IntraOpThreads}");
        if (InterOpThreads < 0) throw new BadInputException($"inter-op threads must be 0 (ORT's default) or more, not {InterOpThreads}");
        if (Device.Id < 0) throw new BadInputException($"--device cuda:{Device.Id}: device index must be 0 or more");
        RuntimeEnvironment.Ensure();
        var options = new Ort.SessionOptions();
        try
        {
            options.ExecutionMode = ParallelExecution ? Ort.ExecutionMode.ORT_PARALLEL : Ort.ExecutionMode.ORT_SEQUENTIAL;
            options.IntraOpNumThreads = IntraOpThreads;
            options.InterOpNumThreads = InterOpThreads;
            options.GraphOptimizationLevel = (Ort.GraphOptimizationLevel)(int)OptimizationLevel;
            options.EnableCpuMemArena = Memory != CpuMemory.NoArena;
            if (Memory == CpuMemory.SharedArena)
            {
                RuntimeEnvironment.EnsureSharedCpuArena();
                options.AddSessionConfigEntry("session.use_env_allocators", "1");
                options.EnableMemoryPattern = false;
            }
            if (Device.IsCuda) AppendCuda(options, Device.Id);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws a one-line <see cref="DeviceUnavailableException"/> unless sessions can run on
    /// <paramref name="device"/>: for CUDA, the provider must be in this build and must start on that device.
    /// Lets a command refuse <c>--device cuda</c> before it reads or writes anything.
    /// </summary>
    public static void EnsureAvailable(ComputeDevice device)
    {
        if (!device.IsCuda) return;
        using var options = new SessionSettings { Device = device }.CreateNative();
    }

    private static void AppendCuda(Ort.SessionOptions options, int deviceId)
    {
        if (!RuntimeEnvironment.HasCudaProvider)
            throw new DeviceUnavailableException(
                $"{NoCudaMessage} (it has {string.Join(", ", RuntimeEnvironment.AvailableProviders)}); build the GPU flavour with ./build.sh --target=Build --gpu, or use --device cpu");
        if (CudaProviderLibrary.LoadError() is { } missing)
            throw new DeviceUnavailableException($"--device cuda:{deviceId}: ONNX Runtime's CUDA provider cannot load: {missing} (it needs {CudaProviderLibrary.Needs}); use --device cpu");
        try
        {
            options.AppendExecutionProvider_CUDA(deviceId);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            // The provider is in the build but cannot start: no driver, no libcudart/cuDNN, or no such device.
            string reason = RuntimeCallException.From("CUDA provider", e).RuntimeMessage;
            throw new DeviceUnavailableException($"--device cuda:{deviceId}: ONNX Runtime's CUDA provider cannot start ({reason}); use --device cpu", e);
        }
    }
}
