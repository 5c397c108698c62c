using System.Text;
using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// An ONNX model loaded into ONNX Runtime. Runs read inputs straight from our tensors' native memory
/// (each is wrapped with <c>CreateTensorWithDataAsOrtValue</c>, no copy) and either write into
/// tensors we pre-allocated (no copy) or return ORT's own output buffers as read-only tensors.
/// Runs may be issued from several threads at once (ORT allows it); disposing while a run is in
/// flight waits for nothing but is safe: the native session is released after the last run ends.
/// </summary>
internal sealed unsafe class InferenceSession : IDisposable
{
    private readonly OrtApi _api;
    private readonly OrtEnvironment _env;
    private readonly OrtSessionHandle _session;
    private readonly OrtRunOptionsHandle _runOptions;
    private readonly string[] _allOutputNames;

    private InferenceSession(OrtApi api, OrtEnvironment env, OrtSessionHandle session, string source)
    {
        _api = api;
        _env = env;
        _session = session;
        Source = source;
        try
        {
            IntPtr runOptions;
            api.Check(api.CreateRunOptions(&runOptions));
            _runOptions = new OrtRunOptionsHandle(runOptions);
            Inputs = SessionMetadata.Read(api, session.Native, inputs: true);
            Outputs = SessionMetadata.Read(api, session.Native, inputs: false);
            _allOutputNames = Outputs.Select(o => o.Name).ToArray();
        }
        catch
        {
            _runOptions?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>Loads the model at <paramref name="path"/> (external data files are found beside it).</summary>
    public static InferenceSession FromFile(string path, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (api, env) = (OrtApi.Instance, OrtEnvironment.Instance);
        using var native = (options ?? new SessionOptions()).CreateNative(api, env);
        // ORTCHAR_T is wchar_t on Windows and char (UTF-8) elsewhere.
        byte[] nativePath = OperatingSystem.IsWindows() ? Encoding.Unicode.GetBytes(path + "\0") : OrtEnvironment.Utf8Z(path);
        IntPtr session;
        fixed (byte* p = nativePath)
            api.Check(api.CreateSession(env.Env.Native, p, native.Native, &session));
        return new InferenceSession(api, env, new OrtSessionHandle(session), path);
    }

    /// <summary>Loads a model from its serialized bytes (ORT parses them during the call and keeps no reference).</summary>
    public static InferenceSession FromBytes(ReadOnlySpan<byte> model, SessionOptions? options = null)
    {
        var (api, env) = (OrtApi.Instance, OrtEnvironment.Instance);
        using var native = (options ?? new SessionOptions()).CreateNative(api, env);
        IntPtr session;
        fixed (byte* p = model)
            api.Check(api.CreateSessionFromArray(env.Env.Native, p, (nuint)model.Length, native.Native, &session));
        return new InferenceSession(api, env, new OrtSessionHandle(session), $"<{model.Length} bytes>");
    }

    /// <summary>The file path, or "&lt;N bytes&gt;" for a model loaded from memory.</summary>
    public string Source { get; }

    public IReadOnlyList<TensorInfo> Inputs { get; }
    public IReadOnlyList<TensorInfo> Outputs { get; }

    /// <summary>
    /// Runs the model on named inputs and returns the requested outputs (all, in model order, when
    /// <paramref name="outputNames"/> is null) as read-only tensors over ORT's output buffers.
    /// </summary>
    public SessionOutputs Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        outputNames ??= _allOutputNames;
        using var inputValues = new OrtValueSet(_api, _env, inputs, writable: false);
        using var inputNames = new NativeUtf8Strings(inputValues.Names);
        using var outNames = new NativeUtf8Strings(outputNames);
        // Null output slots ask ORT to allocate each output; we own what it puts there.
        var results = new IntPtr[outputNames.Count];
        fixed (IntPtr* outs = results)
        {
            try
            {
                RunNative(inputNames.Pointers, inputValues.Values, inputValues.Count, outNames.Pointers, outs, results.Length);
            }
            catch
            {
                foreach (IntPtr r in results) if (r != IntPtr.Zero) _api.ReleaseValue(r);
                throw;
            }
        }

        var tensors = new Tensor[results.Length];
        try
        {
            for (int i = 0; i < results.Length; i++)
            {
                var value = new OrtValueHandle(results[i]);
                results[i] = IntPtr.Zero;
                tensors[i] = OrtValueStorage.ToTensor(_api, outputNames[i], value);
            }
        }
        catch
        {
            foreach (Tensor? t in tensors) t?.Dispose();
            foreach (IntPtr r in results) if (r != IntPtr.Zero) _api.ReleaseValue(r);
            throw;
        }
        return new SessionOutputs(tensors);
    }

    /// <summary>
    /// Runs the model writing each named output into the tensor given for it (which must have the
    /// output's exact dtype and shape); nothing is copied on either side.
    /// </summary>
    public void Run(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        using var inputValues = new OrtValueSet(_api, _env, inputs, writable: false);
        using var outputValues = new OrtValueSet(_api, _env, outputs, writable: true);
        using var inputNames = new NativeUtf8Strings(inputValues.Names);
        using var outputNames = new NativeUtf8Strings(outputValues.Names);
        RunNative(inputNames.Pointers, inputValues.Values, inputValues.Count, outputNames.Pointers, outputValues.Values, outputValues.Count);
    }

    /// <summary>
    /// Wraps the given tensors once so that <see cref="BoundRun.Run"/> can run the model again and again
    /// (e.g. after changing input contents in place) without creating any native object per call.
    /// The tensors must stay alive, undisposed, for as long as the bound run is used.
    /// </summary>
    public BoundRun Bind(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs) =>
        new(this, inputs, outputs);

    /// <summary>One native Run; holds a reference on the session so a concurrent Dispose cannot free it mid-run.</summary>
    internal void RunNative(byte** inputNames, IntPtr* inputs, int inputCount, byte** outputNames, IntPtr* outputs, int outputCount)
    {
        bool sessionRef = false, optionsRef = false;
        try
        {
            _session.DangerousAddRef(ref sessionRef);
            _runOptions.DangerousAddRef(ref optionsRef);
            _api.Check(_api.Run(_session.DangerousGetHandle(), _runOptions.DangerousGetHandle(),
                inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs));
        }
        finally
        {
            if (optionsRef) _runOptions.DangerousRelease();
            if (sessionRef) _session.DangerousRelease();
        }
    }

    internal OrtApi Api => _api;
    internal OrtEnvironment Environment => _env;

    public override string ToString() => $"InferenceSession({Source})";

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
