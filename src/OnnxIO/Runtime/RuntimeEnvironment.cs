using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>The least severe message ONNX Runtime prints (to stderr): ORT's <c>OrtLoggingLevel</c>.</summary>
public enum RuntimeLogLevel { Verbose = 0, Info = 1, Warning = 2, Error = 3, Fatal = 4 }

/// <summary>
/// The process-wide ONNX Runtime environment (the official binding's <see cref="Ort.OrtEnv"/>; ORT allows one
/// logging setup per process). Created on first use with <see cref="RuntimeLogLevel.Fatal"/> unless
/// <see cref="Initialise"/> chose a level first: every failed ORT call becomes an exception carrying ORT's
/// message, so ORT's own warning and error lines (coloured, multi-line, on stderr) would only repeat it
/// and break the one-line errors and the progress lines.
/// </summary>
public static class RuntimeEnvironment
{
    private static readonly Lock s_lock = new();
    private static RuntimeLogLevel? s_level;
    private static string[]? s_providers;
    private static bool s_sharedArena;

    public const RuntimeLogLevel DefaultLevel = RuntimeLogLevel.Fatal;

    /// <summary>The provider ORT's CUDA build registers.</summary>
    public const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>Creates the environment with <paramref name="level"/>; a no-op if it exists with that level, an error if with another.</summary>
    public static void Initialise(RuntimeLogLevel level) => Ensure(level);

    /// <summary>The environment, created with <see cref="DefaultLevel"/> if nothing created it yet.</summary>
    internal static Ort.OrtEnv Ensure(RuntimeLogLevel? level = null)
    {
        lock (s_lock)
        {
            if (s_level is null)
            {
                var options = new Ort.EnvironmentCreationOptions
                {
                    logId = "amalgam",
                    logLevel = (Ort.OrtLoggingLevel)(int)(level ?? DefaultLevel),
                };
                Ort.OrtEnv.CreateInstanceWithOptions(ref options);
                s_level = level ?? DefaultLevel;
            }
            else if (level is { } l && l != s_level)
            {
                throw new InvalidOperationException($"the ONNX Runtime environment already exists with log level {s_level}, cannot switch to {l}");
            }
            return Ort.OrtEnv.Instance();
        }
    }

    /// <summary>
    /// Registers the process-wide CPU arena that sessions built with <see cref="CpuMemory.SharedArena"/>
    /// allocate from (ORT's <c>CreateAndRegisterAllocator</c>); once per process. The arena grows by
    /// the size requested rather than ORT's default power of two, so its peak stays near the largest
    /// concurrent working set.
    /// </summary>
    internal static void EnsureSharedCpuArena()
    {
        var env = Ensure();
        lock (s_lock)
        {
            if (s_sharedArena) return;
            using var arena = new Ort.OrtArenaCfg(maxMemory: 0, arenaExtendStrategy: 1, initialChunkSizeBytes: -1, maxDeadBytesPerChunk: -1);
            // The CPU memory info sessions look up (name "Cpu", arena type): DefaultInstance is the plain device allocator's.
            using var cpu = new Ort.OrtMemoryInfo(Ort.OrtMemoryInfo.allocatorCPU, Ort.OrtAllocatorType.ArenaAllocator, 0, Ort.OrtMemType.Default);
            env.CreateAndRegisterAllocator(cpu, arena);
            s_sharedArena = true;
        }
    }

    public static RuntimeLogLevel LogLevel
    {
        get
        {
            Ensure();
            return s_level!.Value;
        }
    }

    /// <summary>The loaded native library's version, e.g. "1.31.1".</summary>
    public static string Version => Ensure().GetVersionString();

    /// <summary>Execution providers compiled into the loaded library (they may still fail to start, e.g. without a GPU).</summary>
    public static IReadOnlyList<string> AvailableProviders
    {
        get
        {
            var env = Ensure();
            lock (s_lock) return s_providers ??= env.GetAvailableProviders();
        }
    }

    /// <summary>True when this build carries ORT's CUDA provider (the <c>--gpu</c> flavour).</summary>
    public static bool HasCudaProvider => AvailableProviders.Contains(CudaProvider);
}
