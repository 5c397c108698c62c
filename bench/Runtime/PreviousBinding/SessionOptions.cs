using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>ORT's <c>GraphOptimizationLevel</c>.</summary>
internal enum GraphOptimizationLevel { Disabled = 0, Basic = 1, Extended = 2, All = 99 }

/// <summary>Where a session runs.</summary>
internal enum ExecutionDevice { Cpu, Cuda }

/// <summary>
/// How to build a session. A plain description; the native <c>OrtSessionOptions</c> is made from it
/// when a session is created and released right after.
/// </summary>
internal sealed record SessionOptions
{
    public const string NoCudaMessage = "--device cuda: the loaded ONNX Runtime has no CUDA provider";
    private const string CudaProviderName = "CUDAExecutionProvider";

    /// <summary>Threads used inside one operator (0 = ORT's default, one per physical core; 1 = the calling thread only).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads that run independent operators at once; only used with <see cref="ParallelExecution"/>.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Run independent graph branches concurrently (ORT_PARALLEL) instead of in order (ORT_SEQUENTIAL).</summary>
    public bool ParallelExecution { get; init; }

    public GraphOptimizationLevel OptimizationLevel { get; init; } = GraphOptimizationLevel.All;

    /// <summary>
    /// ORT's CPU memory arena (default on) keeps each session's peak working memory after a run. Off:
    /// memory is returned after every run, so many sessions run in turn (one per task) peak at one
    /// session's working set instead of the sum.
    /// </summary>
    public bool CpuMemoryArena { get; init; } = true;

    public ExecutionDevice Device { get; init; } = ExecutionDevice.Cpu;

    /// <summary>CUDA device index when <see cref="Device"/> is CUDA.</summary>
    public int DeviceId { get; init; }

    internal unsafe OrtSessionOptionsHandle CreateNative(OrtApi api, OrtEnvironment env)
    {
        if (IntraOpThreads < 0) throw new BadInputException($"intra-op threads must be 0 (ORT's default) or more, not {IntraOpThreads}");
        if (InterOpThreads < 0) throw new BadInputException($"inter-op threads must be 0 (ORT's default) or more, not {InterOpThreads}");
        if (DeviceId < 0) throw new BadInputException($"--device cuda: device id must be 0 or more, not {DeviceId}");

        IntPtr p;
        api.Check(api.CreateSessionOptions(&p));
        var options = new OrtSessionOptionsHandle(p);
        try
        {
            api.Check(api.SetSessionExecutionMode(p, ParallelExecution ? 1 : 0));
            api.Check(api.SetIntraOpNumThreads(p, IntraOpThreads));
            api.Check(api.SetInterOpNumThreads(p, InterOpThreads));
            api.Check(api.SetSessionGraphOptimizationLevel(p, (int)OptimizationLevel));
            if (!CpuMemoryArena) api.Check(api.DisableCpuMemArena(p));
            if (Device == ExecutionDevice.Cuda) AppendCuda(api, env, p);
            return options;
        }
        catch
        {
            options.Dispose();
            throw;
        }
    }

    private unsafe void AppendCuda(OrtApi api, OrtEnvironment env, IntPtr options)
    {
        if (!env.AvailableProviders.Contains(CudaProviderName))
            throw new OrtProviderUnavailableException($"{NoCudaMessage} (it has {string.Join(", ", env.AvailableProviders)}); use --device cpu or point AMALGAM_ORT_LIBRARY at a CUDA build");
        // ORT loads the provider from the folder of libonnxruntime itself. Checking first spares the user
        // ORT's multi-line log of the failed load when the file is simply not there.
        if (MissingProviderLibrary(env.LibraryPath) is { } missing)
            throw new OrtProviderUnavailableException($"{NoCudaMessage} ({missing} is not beside {env.LibraryPath}); use --device cpu or install ONNX Runtime's CUDA build there");
        try
        {
            IntPtr p;
            api.Check(api.CreateCUDAProviderOptions(&p));
            using var cuda = new OrtCudaProviderOptionsHandle(p);
            fixed (byte* key = "device_id\0"u8)
            fixed (byte* value = OrtEnvironment.Utf8Z(DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                byte* keys = key, values = value;
                api.Check(api.UpdateCUDAProviderOptions(p, &keys, &values, 1));
            }
            api.Check(api.SessionOptionsAppendExecutionProvider_CUDA_V2(options, p));
        }
        catch (OrtException e)
        {
            // The provider is compiled in but cannot start (e.g. libonnxruntime_providers_cuda.so or the CUDA
            // libraries are missing): still the same user-facing problem, with ORT's reason attached.
            string reason = e.OrtMessage.ReplaceLineEndings(" ");
            throw new OrtProviderUnavailableException($"{NoCudaMessage} that can start (ORT: {reason})", e);
        }
    }

    /// <summary>The CUDA provider library's file name if it is missing beside <paramref name="ortLibrary"/>; null if present or unknowable.</summary>
    internal static string? MissingProviderLibrary(string ortLibrary)
    {
        string? folder = Path.GetDirectoryName(ortLibrary);
        if (string.IsNullOrEmpty(folder)) return null; // loaded by the system loader from a bare name
        string name = OperatingSystem.IsWindows() ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
        return File.Exists(Path.Combine(folder, name)) ? null : name;
    }
}
