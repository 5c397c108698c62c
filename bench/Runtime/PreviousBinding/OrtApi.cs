using System.Runtime.InteropServices;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// The ONNX Runtime C API function table (<c>struct OrtApi</c> in
/// include/onnxruntime/core/session/onnxruntime_c_api.h), read once from <c>OrtGetApiBase()->GetApi(13)</c>.
/// The struct only ever grows at its end, so the index of an entry never changes between ORT versions;
/// each entry below names its index in the struct. Handles are passed as <see cref="IntPtr"/>,
/// <c>char*</c> as <c>byte*</c> (UTF-8), and every entry returning <c>OrtStatus*</c> goes through
/// <see cref="Check"/>. This is the only class that touches the table.
/// </summary>
internal sealed unsafe class OrtApi
{
    /// <summary>ORT_API_VERSION of the header the indices below were counted from (ORT 1.13).</summary>
    public const uint ApiVersion = 13;

    private static readonly Lazy<OrtApi> s_instance = new(() => new OrtApi(OrtLibraryLoader.Load()));

    /// <summary>The process-wide table; loads the native library on first use.</summary>
    public static OrtApi Instance => s_instance.Value;

    /// <summary>Path of the loaded native library.</summary>
    public string LibraryPath { get; }

    /// <summary>ORT's own version string, e.g. "1.30.0".</summary>
    public string VersionString { get; }

    // [0] CreateStatus(OrtErrorCode code, const char* msg) -> OrtStatus*
    public readonly delegate* unmanaged[Cdecl]<OrtErrorCode, byte*, IntPtr> CreateStatus;
    // [1] GetErrorCode(const OrtStatus*) -> OrtErrorCode
    public readonly delegate* unmanaged[Cdecl]<IntPtr, OrtErrorCode> GetErrorCode;
    // [2] GetErrorMessage(const OrtStatus*) -> const char* (owned by the status)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, byte*> GetErrorMessage;
    // [3] CreateEnv(OrtLoggingLevel, const char* logid, OrtEnv** out)
    public readonly delegate* unmanaged[Cdecl]<int, byte*, IntPtr*, IntPtr> CreateEnv;
    // [7] CreateSession(const OrtEnv*, const char* model_path, const OrtSessionOptions*, OrtSession** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, IntPtr*, IntPtr> CreateSession;
    // [8] CreateSessionFromArray(const OrtEnv*, const void* data, size_t length, const OrtSessionOptions*, OrtSession** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, IntPtr, IntPtr*, IntPtr> CreateSessionFromArray;
    // [9] Run(OrtSession*, const OrtRunOptions*, const char* const* input_names, const OrtValue* const* inputs,
    //         size_t input_len, const char* const* output_names, size_t output_len, OrtValue** outputs)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, byte**, IntPtr*, nuint, byte**, nuint, IntPtr*, IntPtr> Run;
    // [10] CreateSessionOptions(OrtSessionOptions** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> CreateSessionOptions;
    // [13] SetSessionExecutionMode(OrtSessionOptions*, ExecutionMode)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetSessionExecutionMode;
    // [19] DisableCpuMemArena(OrtSessionOptions*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr> DisableCpuMemArena;
    // [23] SetSessionGraphOptimizationLevel(OrtSessionOptions*, GraphOptimizationLevel)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetSessionGraphOptimizationLevel;
    // [24] SetIntraOpNumThreads(OrtSessionOptions*, int)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetIntraOpNumThreads;
    // [25] SetInterOpNumThreads(OrtSessionOptions*, int)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr> SetInterOpNumThreads;
    // [30] SessionGetInputCount(const OrtSession*, size_t* out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> SessionGetInputCount;
    // [31] SessionGetOutputCount(const OrtSession*, size_t* out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> SessionGetOutputCount;
    // [33] SessionGetInputTypeInfo(const OrtSession*, size_t index, OrtTypeInfo** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr> SessionGetInputTypeInfo;
    // [34] SessionGetOutputTypeInfo(const OrtSession*, size_t index, OrtTypeInfo** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr> SessionGetOutputTypeInfo;
    // [36] SessionGetInputName(const OrtSession*, size_t index, OrtAllocator*, char** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, byte**, IntPtr> SessionGetInputName;
    // [37] SessionGetOutputName(const OrtSession*, size_t index, OrtAllocator*, char** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, byte**, IntPtr> SessionGetOutputName;
    // [39] CreateRunOptions(OrtRunOptions** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> CreateRunOptions;
    // [49] CreateTensorWithDataAsOrtValue(const OrtMemoryInfo*, void* data, size_t data_len, const int64_t* shape,
    //                                     size_t shape_len, ONNXTensorElementDataType, OrtValue** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, long*, nuint, OnnxElementType, IntPtr*, IntPtr> CreateTensorWithDataAsOrtValue;
    // [50] IsTensor(const OrtValue*, int* out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr> IsTensor;
    // [51] GetTensorMutableData(OrtValue*, void** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void**, IntPtr> GetTensorMutableData;
    // [55] CastTypeInfoToTensorInfo(const OrtTypeInfo*, const OrtTensorTypeAndShapeInfo** out) (out not owned)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr> CastTypeInfoToTensorInfo;
    // [56] GetOnnxTypeFromTypeInfo(const OrtTypeInfo*, ONNXType* out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, OnnxValueKind*, IntPtr> GetOnnxTypeFromTypeInfo;
    // [60] GetTensorElementType(const OrtTensorTypeAndShapeInfo*, ONNXTensorElementDataType* out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, OnnxElementType*, IntPtr> GetTensorElementType;
    // [61] GetDimensionsCount(const OrtTensorTypeAndShapeInfo*, size_t* out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr> GetDimensionsCount;
    // [62] GetDimensions(const OrtTensorTypeAndShapeInfo*, int64_t* dims, size_t dims_len)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, long*, nuint, IntPtr> GetDimensions;
    // [63] GetSymbolicDimensions(const OrtTensorTypeAndShapeInfo*, const char** names, size_t names_len)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, byte**, nuint, IntPtr> GetSymbolicDimensions;
    // [65] GetTensorTypeAndShape(const OrtValue*, OrtTensorTypeAndShapeInfo** out) (out owned)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr> GetTensorTypeAndShape;
    // [69] CreateCpuMemoryInfo(OrtAllocatorType, OrtMemType, OrtMemoryInfo** out)
    public readonly delegate* unmanaged[Cdecl]<int, int, IntPtr*, IntPtr> CreateCpuMemoryInfo;
    // [76] AllocatorFree(OrtAllocator*, void* p)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void*, IntPtr> AllocatorFree;
    // [78] GetAllocatorWithDefaultOptions(OrtAllocator** out) (process-wide, never freed)
    public readonly delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> GetAllocatorWithDefaultOptions;
    // [92] ReleaseEnv(OrtEnv*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseEnv;
    // [93] ReleaseStatus(OrtStatus*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseStatus;
    // [94] ReleaseMemoryInfo(OrtMemoryInfo*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseMemoryInfo;
    // [95] ReleaseSession(OrtSession*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseSession;
    // [96] ReleaseValue(OrtValue*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseValue;
    // [97] ReleaseRunOptions(OrtRunOptions*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseRunOptions;
    // [98] ReleaseTypeInfo(OrtTypeInfo*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseTypeInfo;
    // [99] ReleaseTensorTypeAndShapeInfo(OrtTensorTypeAndShapeInfo*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseTensorTypeAndShapeInfo;
    // [100] ReleaseSessionOptions(OrtSessionOptions*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseSessionOptions;
    // [125] GetAvailableProviders(char*** out, int* length)
    public readonly delegate* unmanaged[Cdecl]<byte***, int*, IntPtr> GetAvailableProviders;
    // [126] ReleaseAvailableProviders(char** ptr, int length)
    public readonly delegate* unmanaged[Cdecl]<byte**, int, IntPtr> ReleaseAvailableProviders;
    // [204] SessionOptionsAppendExecutionProvider_CUDA_V2(OrtSessionOptions*, const OrtCUDAProviderOptionsV2*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr> SessionOptionsAppendExecutionProvider_CUDA_V2;
    // [205] CreateCUDAProviderOptions(OrtCUDAProviderOptionsV2** out)
    public readonly delegate* unmanaged[Cdecl]<IntPtr*, IntPtr> CreateCUDAProviderOptions;
    // [206] UpdateCUDAProviderOptions(OrtCUDAProviderOptionsV2*, const char* const* keys, const char* const* values, size_t n)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, byte**, byte**, nuint, IntPtr> UpdateCUDAProviderOptions;
    // [208] ReleaseCUDAProviderOptions(OrtCUDAProviderOptionsV2*)
    public readonly delegate* unmanaged[Cdecl]<IntPtr, void> ReleaseCUDAProviderOptions;

    /// <summary>The default CPU allocator, used to free strings ORT allocates for us (names).</summary>
    public IntPtr DefaultAllocator { get; }

    private OrtApi(LoadedOrtLibrary library)
    {
        LibraryPath = library.Path;
        // struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
        var getApiBase = (delegate* unmanaged[Cdecl]<void**>)library.GetApiBase;
        void** apiBase = getApiBase();
        var getApi = (delegate* unmanaged[Cdecl]<uint, void**>)apiBase[0];
        var getVersion = (delegate* unmanaged[Cdecl]<byte*>)apiBase[1];
        VersionString = Marshal.PtrToStringUTF8((IntPtr)getVersion()) ?? "";
        void** t = getApi(ApiVersion);
        if (t == null)
            throw new OrtLibraryNotFoundException(
                $"ONNX Runtime at {library.Path} (version {VersionString}) does not offer C API version {ApiVersion}; it is too old (need ORT >= 1.13). Run ./build.sh --target=Bootstrap or set AMALGAM_ORT_LIBRARY");

        CreateStatus = (delegate* unmanaged[Cdecl]<OrtErrorCode, byte*, IntPtr>)t[0];
        GetErrorCode = (delegate* unmanaged[Cdecl]<IntPtr, OrtErrorCode>)t[1];
        GetErrorMessage = (delegate* unmanaged[Cdecl]<IntPtr, byte*>)t[2];
        CreateEnv = (delegate* unmanaged[Cdecl]<int, byte*, IntPtr*, IntPtr>)t[3];
        CreateSession = (delegate* unmanaged[Cdecl]<IntPtr, byte*, IntPtr, IntPtr*, IntPtr>)t[7];
        CreateSessionFromArray = (delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, IntPtr, IntPtr*, IntPtr>)t[8];
        Run = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, byte**, IntPtr*, nuint, byte**, nuint, IntPtr*, IntPtr>)t[9];
        CreateSessionOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)t[10];
        SetSessionExecutionMode = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)t[13];
        DisableCpuMemArena = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)t[19];
        SetSessionGraphOptimizationLevel = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)t[23];
        SetIntraOpNumThreads = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)t[24];
        SetInterOpNumThreads = (delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)t[25];
        SessionGetInputCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)t[30];
        SessionGetOutputCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)t[31];
        SessionGetInputTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr>)t[33];
        SessionGetOutputTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr*, IntPtr>)t[34];
        SessionGetInputName = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, byte**, IntPtr>)t[36];
        SessionGetOutputName = (delegate* unmanaged[Cdecl]<IntPtr, nuint, IntPtr, byte**, IntPtr>)t[37];
        CreateRunOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)t[39];
        CreateTensorWithDataAsOrtValue = (delegate* unmanaged[Cdecl]<IntPtr, void*, nuint, long*, nuint, OnnxElementType, IntPtr*, IntPtr>)t[49];
        IsTensor = (delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr>)t[50];
        GetTensorMutableData = (delegate* unmanaged[Cdecl]<IntPtr, void**, IntPtr>)t[51];
        CastTypeInfoToTensorInfo = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr>)t[55];
        GetOnnxTypeFromTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, OnnxValueKind*, IntPtr>)t[56];
        GetTensorElementType = (delegate* unmanaged[Cdecl]<IntPtr, OnnxElementType*, IntPtr>)t[60];
        GetDimensionsCount = (delegate* unmanaged[Cdecl]<IntPtr, nuint*, IntPtr>)t[61];
        GetDimensions = (delegate* unmanaged[Cdecl]<IntPtr, long*, nuint, IntPtr>)t[62];
        GetSymbolicDimensions = (delegate* unmanaged[Cdecl]<IntPtr, byte**, nuint, IntPtr>)t[63];
        GetTensorTypeAndShape = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, IntPtr>)t[65];
        CreateCpuMemoryInfo = (delegate* unmanaged[Cdecl]<int, int, IntPtr*, IntPtr>)t[69];
        AllocatorFree = (delegate* unmanaged[Cdecl]<IntPtr, void*, IntPtr>)t[76];
        GetAllocatorWithDefaultOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)t[78];
        ReleaseEnv = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[92];
        ReleaseStatus = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[93];
        ReleaseMemoryInfo = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[94];
        ReleaseSession = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[95];
        ReleaseValue = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[96];
        ReleaseRunOptions = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[97];
        ReleaseTypeInfo = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[98];
        ReleaseTensorTypeAndShapeInfo = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[99];
        ReleaseSessionOptions = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[100];
        GetAvailableProviders = (delegate* unmanaged[Cdecl]<byte***, int*, IntPtr>)t[125];
        ReleaseAvailableProviders = (delegate* unmanaged[Cdecl]<byte**, int, IntPtr>)t[126];
        SessionOptionsAppendExecutionProvider_CUDA_V2 = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr>)t[204];
        CreateCUDAProviderOptions = (delegate* unmanaged[Cdecl]<IntPtr*, IntPtr>)t[205];
        UpdateCUDAProviderOptions = (delegate* unmanaged[Cdecl]<IntPtr, byte**, byte**, nuint, IntPtr>)t[206];
        ReleaseCUDAProviderOptions = (delegate* unmanaged[Cdecl]<IntPtr, void>)t[208];

        IntPtr allocator;
        Check(GetAllocatorWithDefaultOptions(&allocator));
        DefaultAllocator = allocator;
    }

    /// <summary>
    /// Turns a non-null <c>OrtStatus*</c> into an <see cref="OrtException"/> carrying ORT's code and
    /// message, and releases the status. A null status (success) returns normally.
    /// </summary>
    public void Check(IntPtr status)
    {
        if (status == IntPtr.Zero) return;
        throw ToException(status);
    }

    /// <summary>Reads code and message from a failed status, releases it, and returns the exception.</summary>
    public OrtException ToException(IntPtr status)
    {
        OrtErrorCode code = GetErrorCode(status);
        string message = Marshal.PtrToStringUTF8((IntPtr)GetErrorMessage(status)) ?? "";
        ReleaseStatus(status);
        return new OrtException(code, message);
    }
}
