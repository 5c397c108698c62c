using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>How far ORT rewrites the graph before running it (ORT's <c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimization { Disabled = 0, Basic = 1, Extended = 2, All = 99 }

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

    /// <summary>
    /// ORT's CPU memory arena (default on) keeps each session's peak working memory after a run. Off:
    /// memory is returned after every run, so many sessions run in turn (one per task) peak at one
    /// session's working set instead of the sum.
    /// </summary>
    public bool CpuMemoryArena { get; init; } = true;

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
            options.EnableCpuMemArena = CpuMemoryArena;
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
