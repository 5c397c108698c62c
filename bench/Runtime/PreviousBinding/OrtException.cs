using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>ORT's <c>OrtErrorCode</c> (onnxruntime_c_api.h); newer libraries may return codes past the last one named.</summary>
internal enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
}

/// <summary>A failed ONNX Runtime call: ORT's error code and ORT's own message.</summary>
internal class OrtException : Exception
{
    public OrtException(OrtErrorCode code, string message)
        : base($"ONNX Runtime error {code}: {message.TrimEnd()}")
    {
        ErrorCode = code;
        OrtMessage = message.TrimEnd();
    }

    public OrtErrorCode ErrorCode { get; }

    /// <summary>The message exactly as ORT reported it (trailing whitespace removed).</summary>
    public string OrtMessage { get; }
}

/// <summary>No usable ONNX Runtime native library could be loaded; the message says how to get one.</summary>
internal sealed class OrtLibraryNotFoundException : BadInputException
{
    public OrtLibraryNotFoundException(string message) : base(message) { }
}

/// <summary>An execution provider was requested (e.g. <c>--device cuda</c>) that the loaded ORT cannot provide.</summary>
internal sealed class OrtProviderUnavailableException : BadInputException
{
    public OrtProviderUnavailableException(string message) : base(message) { }
    public OrtProviderUnavailableException(string message, Exception inner) : base(message, inner) { }
}
