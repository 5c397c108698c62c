using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Blas;

/// <summary>
/// Entry point to the OpenBLAS library: loading, availability, thread count. The numeric wrappers
/// are <see cref="BlasLevel3"/> (sgemm, ssyrk) and <see cref="Lapack"/> (ssyevd, ssyevr, sposv, sgelsd).
/// The library is loaded on first use from <c>libopenblas.so.0</c> (Debian package
/// <c>libopenblas0-pthread</c>), or from the file named by <c>AMALGAM_OPENBLAS_LIBRARY</c>.
/// </summary>
public static unsafe class OpenBlas
{
    private static readonly Lock Gate = new();
    private static OpenBlasNative? _native;
    private static string? _loadError;

    /// <summary>Name of the environment variable that overrides the library path.</summary>
    public const string LibraryPathVariable = OpenBlasNative.PathVariable;

    /// <summary>True when OpenBLAS loaded with every function we need (loads it on first call).</summary>
    public static bool IsAvailable => TryLoad(out _);

    /// <summary>Loads the library once; later calls return the cached outcome.</summary>
    /// <param name="error">Empty on success, else a one-line description of what is missing and how to fix it.</param>
    public static bool TryLoad(out string error)
    {
        lock (Gate)
        {
            if (_native is null && _loadError is null)
            {
                var candidates = OpenBlasNative.CandidatePaths(Environment.GetEnvironmentVariable(LibraryPathVariable));
                _native = OpenBlasNative.TryLoad(candidates, out string e);
                if (_native is null) _loadError = e;
            }
            error = _loadError ?? "";
            return _native is not null;
        }
    }

    /// <summary>Loads the library or throws <see cref="NativeLibraryMissingException"/>.</summary>
    public static void EnsureLoaded() => _ = Native;

    /// <summary>Path the library was loaded from (as given to the loader).</summary>
    public static string LibraryPath => Native.LibraryPath;

    /// <summary>OpenBLAS build description (version, target core, threading), or "" if not exported.</summary>
    public static string Configuration
    {
        get
        {
            var n = Native;
            return n.GetConfig == null ? "" : Marshal.PtrToStringUTF8((IntPtr)n.GetConfig()) ?? "";
        }
    }

    /// <summary>True when the library exports <c>openblas_set_num_threads</c>/<c>openblas_get_num_threads</c>.</summary>
    public static bool CanControlThreads
    {
        get
        {
            var n = Native;
            return n.SetNumThreads != null && n.GetNumThreads != null;
        }
    }

    /// <summary>
    /// OpenBLAS's worker-thread count (process-wide; default: OPENBLAS_NUM_THREADS or the core count).
    /// Setting it when the library has no thread control is a no-op; getting it then returns 1.
    /// <para>
    /// Determinism: results are bit-identical for a fixed count, but NOT across counts. Measured with
    /// OpenBLAS 0.3.21 (Haswell kernels): sgemm 300x300x300 on 1 vs 2 threads differs by an ulp in
    /// about 5% of entries, ssyrk likewise. So keep this fixed for a whole run and do not derive it
    /// from a user's thread option if output must not depend on that option.
    /// </para>
    /// </summary>
    public static int ThreadCount
    {
        get
        {
            var n = Native;
            return n.GetNumThreads == null ? 1 : n.GetNumThreads();
        }
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            var n = Native;
            if (n.SetNumThreads != null) n.SetNumThreads(value);
        }
    }

    /// <summary>The loaded function table; throws <see cref="NativeLibraryMissingException"/> if unavailable.</summary>
    internal static OpenBlasNative Native
    {
        get
        {
            var n = Volatile.Read(ref _native);
            if (n is not null) return n;
            if (!TryLoad(out string error)) throw new NativeLibraryMissingException(error);
            return _native!;
        }
    }
}
