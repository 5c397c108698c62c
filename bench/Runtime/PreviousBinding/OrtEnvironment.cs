using System.Runtime.InteropServices;
using System.Text;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>ORT's <c>OrtLoggingLevel</c>: the least severe message ORT prints (to stderr).</summary>
internal enum OrtLogLevel { Verbose = 0, Info = 1, Warning = 2, Error = 3, Fatal = 4 }

/// <summary>
/// The process-wide ONNX Runtime environment (one <c>OrtEnv</c>; ORT allows only one logging setup per
/// process). Created on first use with <see cref="OrtLogLevel.Error"/> unless <see cref="Initialise"/>
/// chose a level first. It lives until the process ends: ORT must not release the env while sessions exist.
/// </summary>
internal sealed unsafe class OrtEnvironment
{
    private static readonly Lock s_lock = new();
    private static OrtEnvironment? s_instance;

    private OrtEnvironment(OrtLogLevel level)
    {
        OrtApi api = OrtApi.Instance;
        LogLevel = level;
        IntPtr env;
        fixed (byte* logId = "amalgam\0"u8)
            api.Check(api.CreateEnv((int)level, logId, &env));
        Env = new OrtEnvHandle(env);

        // OrtArenaAllocator + OrtMemTypeDefault on CPU: where our own tensor buffers live.
        IntPtr memoryInfo;
        api.Check(api.CreateCpuMemoryInfo(1, 0, &memoryInfo));
        CpuMemory = new OrtMemoryInfoHandle(memoryInfo);

        AvailableProviders = ReadAvailableProviders(api);
    }

    /// <summary>The environment, created with <see cref="OrtLogLevel.Error"/> if nothing created it yet.</summary>
    public static OrtEnvironment Instance => GetOrCreate(null);

    /// <summary>
    /// Creates the environment with <paramref name="level"/>; returns the existing one if it already has
    /// that level, and throws if it was already created with another (ORT cannot change it afterwards).
    /// </summary>
    public static OrtEnvironment Initialise(OrtLogLevel level) => GetOrCreate(level);

    private static OrtEnvironment GetOrCreate(OrtLogLevel? level)
    {
        lock (s_lock)
        {
            if (s_instance is null) s_instance = new OrtEnvironment(level ?? OrtLogLevel.Error);
            else if (level is { } l && l != s_instance.LogLevel)
                throw new InvalidOperationException($"the ONNX Runtime environment already exists with log level {s_instance.LogLevel}, cannot switch to {l}");
            return s_instance;
        }
    }

    public OrtLogLevel LogLevel { get; }

    /// <summary>The loaded library's version, e.g. "1.30.0".</summary>
    public string Version => OrtApi.Instance.VersionString;

    /// <summary>Path (or system-loader name) of the loaded native library.</summary>
    public string LibraryPath => OrtApi.Instance.LibraryPath;

    /// <summary>Execution providers compiled into the library (they may still fail to load, e.g. missing CUDA libraries).</summary>
    public IReadOnlyList<string> AvailableProviders { get; }

    internal OrtEnvHandle Env { get; }
    internal OrtMemoryInfoHandle CpuMemory { get; }

    private static string[] ReadAvailableProviders(OrtApi api)
    {
        byte** names;
        int count;
        api.Check(api.GetAvailableProviders(&names, &count));
        try
        {
            var result = new string[count];
            for (int i = 0; i < count; i++) result[i] = Marshal.PtrToStringUTF8((IntPtr)names[i]) ?? "";
            return result;
        }
        finally
        {
            api.Check(api.ReleaseAvailableProviders(names, count));
        }
    }

    /// <summary>A null-terminated UTF-8 copy of <paramref name="s"/> for a native call.</summary>
    internal static byte[] Utf8Z(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
