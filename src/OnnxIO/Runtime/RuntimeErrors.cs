using System.Text.RegularExpressions;
using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>ORT's <c>OrtErrorCode</c> (onnxruntime_c_api.h), read back from the official binding's message prefix.</summary>
public enum RuntimeErrorCode
{
    Unknown = -1,
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

/// <summary>
/// A failed ONNX Runtime call on one model: names the model (file path or "&lt;N bytes&gt;"), carries ORT's
/// error code and ORT's own message, on one line. Wraps the official binding's
/// <see cref="Ort.OnnxRuntimeException"/>, which carries the code only inside its message.
/// </summary>
public sealed partial class RuntimeCallException : Exception
{
    private RuntimeCallException(string model, RuntimeErrorCode code, string message, Exception inner)
        : base($"{model}: ONNX Runtime error {code}: {message}", inner)
    {
        Model = model;
        ErrorCode = code;
        RuntimeMessage = message;
    }

    public string Model { get; }
    public RuntimeErrorCode ErrorCode { get; }

    /// <summary>ORT's message without the binding's "[ErrorCode:...]" prefix, on one line.</summary>
    public string RuntimeMessage { get; }

    /// <summary>Our exception for the official binding's <paramref name="e"/>, raised while working on <paramref name="model"/>.</summary>
    public static RuntimeCallException From(string model, Ort.OnnxRuntimeException e)
    {
        // The binding formats "[ErrorCode:InvalidArgument] message" (NativeApiStatus.VerifySuccess).
        string text = e.Message.ReplaceLineEndings(" ").Trim();
        var m = CodePrefix().Match(text);
        var code = RuntimeErrorCode.Unknown;
        if (m.Success)
        {
            if (!Enum.TryParse(m.Groups[1].Value, out code)) code = RuntimeErrorCode.Unknown;
            text = text[m.Length..].Trim();
        }
        return new RuntimeCallException(model, code, text, e);
    }

    [GeneratedRegex(@"^\[ErrorCode:(\w+)\]")]
    private static partial Regex CodePrefix();
}

/// <summary>A device was requested (<c>--device cuda</c>) that this build or machine cannot provide; the message says what is missing.</summary>
public sealed class DeviceUnavailableException : BadInputException
{
    public DeviceUnavailableException(string message) : base(message) { }
    public DeviceUnavailableException(string message, Exception inner) : base(message, inner) { }
}
