using System.Runtime.InteropServices;

namespace Amalgam.Kernels.Blas;

/// <summary>
/// The one owner of OpenBLAS's native function table. Loads <c>libopenblas</c> (never the slow
/// reference libblas/liblapack) with <see cref="NativeLibrary"/>, resolves every export we need to an
/// unmanaged function pointer, and keeps the library loaded for the life of the process.
/// <para>
/// Calling conventions: CBLAS functions take values; LAPACK functions are Fortran, so every argument
/// is passed by reference, CHARACTER arguments are single bytes, and gfortran appends one hidden
/// <c>size_t</c> length per CHARACTER argument after the visible ones (we always pass 1). Integers are
/// 32-bit: Debian's <c>libopenblas0-pthread</c> is the LP64 build.
/// </para>
/// </summary>
internal sealed unsafe class OpenBlasNative
{
    /// <summary>Environment variable that names the library file to load instead of the defaults.</summary>
    public const string PathVariable = "AMALGAM_OPENBLAS_LIBRARY";

    private const string InstallHint =
        "install it with `./build.sh --target=Bootstrap` or `apt-get install libopenblas0-pthread`, or set " + PathVariable + " to its path";

    // CBLAS enum values (cblas.h).
    public const int RowMajor = 101;
    public const int NoTrans = 111;
    public const int Trans = 112;
    public const int Upper = 121;
    public const int Lower = 122;

    public string LibraryPath { get; }

    // cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
    public readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> CblasSgemm;

    // cblas_ssyrk(order, uplo, trans, N, K, alpha, A, lda, beta, C, ldc)
    public readonly delegate* unmanaged<int, int, int, int, int, float, float*, int, float, float*, int, void> CblasSsyrk;

    // ssyevd_(JOBZ, UPLO, N, A, LDA, W, WORK, LWORK, IWORK, LIWORK, INFO, len(JOBZ), len(UPLO))
    public readonly delegate* unmanaged<byte*, byte*, int*, float*, int*, float*, float*, int*, int*, int*, int*, nuint, nuint, void> Ssyevd;

    // ssyevr_(JOBZ, RANGE, UPLO, N, A, LDA, VL, VU, IL, IU, ABSTOL, M, W, Z, LDZ, ISUPPZ,
    //         WORK, LWORK, IWORK, LIWORK, INFO, len(JOBZ), len(RANGE), len(UPLO))
    public readonly delegate* unmanaged<byte*, byte*, byte*, int*, float*, int*, float*, float*, int*, int*, float*,
        int*, float*, float*, int*, int*, float*, int*, int*, int*, int*, nuint, nuint, nuint, void> Ssyevr;

    // sposv_(UPLO, N, NRHS, A, LDA, B, LDB, INFO, len(UPLO))
    public readonly delegate* unmanaged<byte*, int*, int*, float*, int*, float*, int*, int*, nuint, void> Sposv;

    // sgelsd_(M, N, NRHS, A, LDA, B, LDB, S, RCOND, RANK, WORK, LWORK, IWORK, INFO)
    public readonly delegate* unmanaged<int*, int*, int*, float*, int*, float*, int*, float*, float*, int*, float*, int*, int*, int*, void> Sgelsd;

    // sgeqrf_(M, N, A, LDA, TAU, WORK, LWORK, INFO)
    public readonly delegate* unmanaged<int*, int*, float*, int*, float*, float*, int*, int*, void> Sgeqrf;

    // sorgqr_(M, N, K, A, LDA, TAU, WORK, LWORK, INFO)
    public readonly delegate* unmanaged<int*, int*, int*, float*, int*, float*, float*, int*, int*, void> Sorgqr;

    // sormqr_(SIDE, TRANS, M, N, K, A, LDA, TAU, C, LDC, WORK, LWORK, INFO, len(SIDE), len(TRANS))
    public readonly delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, int*, float*, float*, int*, float*, int*, int*, nuint, nuint, void> Sormqr;

    // sgesdd_(JOBZ, M, N, A, LDA, S, U, LDU, VT, LDVT, WORK, LWORK, IWORK, INFO, len(JOBZ))
    public readonly delegate* unmanaged<byte*, int*, int*, float*, int*, float*, float*, int*, float*, int*, float*, int*, int*, int*, nuint, void> Sgesdd;

    // Optional OpenBLAS extras (absent from other BLAS builds); null when not exported.
    public readonly delegate* unmanaged<int, void> SetNumThreads;
    public readonly delegate* unmanaged<int> GetNumThreads;
    public readonly delegate* unmanaged<byte*> GetConfig;

    private OpenBlasNative(string path, IntPtr handle)
    {
        LibraryPath = path;
        CblasSgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)Export(handle, "cblas_sgemm");
        CblasSsyrk = (delegate* unmanaged<int, int, int, int, int, float, float*, int, float, float*, int, void>)Export(handle, "cblas_ssyrk");
        Ssyevd = (delegate* unmanaged<byte*, byte*, int*, float*, int*, float*, float*, int*, int*, int*, int*, nuint, nuint, void>)Export(handle, "ssyevd_");
        Ssyevr = (delegate* unmanaged<byte*, byte*, byte*, int*, float*, int*, float*, float*, int*, int*, float*,
            int*, float*, float*, int*, int*, float*, int*, int*, int*, int*, nuint, nuint, nuint, void>)Export(handle, "ssyevr_");
        Sposv = (delegate* unmanaged<byte*, int*, int*, float*, int*, float*, int*, int*, nuint, void>)Export(handle, "sposv_");
        Sgelsd = (delegate* unmanaged<int*, int*, int*, float*, int*, float*, int*, float*, float*, int*, float*, int*, int*, int*, void>)Export(handle, "sgelsd_");
        Sgeqrf = (delegate* unmanaged<int*, int*, float*, int*, float*, float*, int*, int*, void>)Export(handle, "sgeqrf_");
        Sorgqr = (delegate* unmanaged<int*, int*, int*, float*, int*, float*, float*, int*, int*, void>)Export(handle, "sorgqr_");
        Sormqr = (delegate* unmanaged<byte*, byte*, int*, int*, int*, float*, int*, float*, float*, int*, float*, int*, int*, nuint, nuint, void>)Export(handle, "sormqr_");
        Sgesdd = (delegate* unmanaged<byte*, int*, int*, float*, int*, float*, float*, int*, float*, int*, float*, int*, int*, int*, nuint, void>)Export(handle, "sgesdd_");
        SetNumThreads = (delegate* unmanaged<int, void>)OptionalExport(handle, "openblas_set_num_threads");
        GetNumThreads = (delegate* unmanaged<int>)OptionalExport(handle, "openblas_get_num_threads");
        GetConfig = (delegate* unmanaged<byte*>)OptionalExport(handle, "openblas_get_config");
    }

    /// <summary>
    /// Files to try, in order. The environment override is the only candidate when set, so a wrong
    /// override fails loudly instead of silently using another library.
    /// </summary>
    public static IReadOnlyList<string> CandidatePaths(string? overridePath)
    {
        if (!string.IsNullOrWhiteSpace(overridePath)) return [overridePath];
        if (OperatingSystem.IsWindows()) return ["libopenblas.dll", "openblas.dll"];
        if (OperatingSystem.IsMacOS()) return ["libopenblas.0.dylib", "libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib"];
        // Debian/Ubuntu: libopenblas0-pthread installs this soname (an alternatives link into
        // /usr/lib/<triplet>/openblas-pthread/). We deliberately do not try liblapack.so.3, which may
        // be the unoptimised reference implementation.
        return ["libopenblas.so.0", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "/usr/lib/aarch64-linux-gnu/libopenblas.so.0", "libopenblas.so"];
    }

    /// <summary>Loads from the first candidate that opens and has every required export.</summary>
    public static OpenBlasNative? TryLoad(IReadOnlyList<string> candidates, out string error)
    {
        var problems = new List<string>();
        foreach (string path in candidates)
        {
            if (!NativeLibrary.TryLoad(path, out IntPtr handle))
            {
                problems.Add($"{path}: not found or not loadable");
                continue;
            }
            try
            {
                var table = new OpenBlasNative(path, handle);
                error = "";
                return table; // Keep the handle: the function pointers live as long as the process.
            }
            catch (MissingExportException e)
            {
                NativeLibrary.Free(handle);
                problems.Add($"{path}: {e.Message}");
            }
        }
        error = $"OpenBLAS is missing ({string.Join("; ", problems)}); {InstallHint}";
        return null;
    }

    private static IntPtr Export(IntPtr handle, string name) =>
        NativeLibrary.TryGetExport(handle, name, out IntPtr p) ? p : throw new MissingExportException($"does not export {name}");

    private static IntPtr OptionalExport(IntPtr handle, string name) =>
        NativeLibrary.TryGetExport(handle, name, out IntPtr p) ? p : IntPtr.Zero;

    private sealed class MissingExportException(string message) : Exception(message);
}
