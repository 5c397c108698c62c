using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>
/// An ONNX model loaded into ONNX Runtime through the official binding (Microsoft.ML.OnnxRuntime.Managed).
/// Runs read inputs straight from our tensors' native memory (each wrapped as an OrtValue over it, no copy)
/// and either write into tensors we pre-allocated (no copy) or return ORT's own output buffers as read-only
/// tensors. Every ORT failure becomes a one-line <see cref="RuntimeCallException"/> naming the model.
/// Runs may be issued from several threads at once (ORT allows it). Dispose during a run is safe: the
/// native session is released when the last run in flight ends.
/// </summary>
public sealed class OnnxSession : IDisposable
{
    private readonly Ort.InferenceSession _session;
    private readonly Ort.RunOptions _runOptions;
    private readonly string[] _allOutputNames;
    private int _leases = 1; // 1 for the owner; +1 per run in flight; the native session goes at 0

    private OnnxSession(Ort.InferenceSession session, string source, ComputeDevice device)
    {
        _session = session;
        Source = source;
        Device = device;
        _runOptions = new Ort.RunOptions();
        Inputs = Describe(session.InputNames, session.InputMetadata);
        Outputs = Describe(session.OutputNames, session.OutputMetadata);
        _allOutputNames = Outputs.Select(o => o.Name).ToArray();
    }

    /// <summary>Loads the model at <paramref name="path"/> (external data files are found beside it).</summary>
    public static OnnxSession FromFile(string path, SessionSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        settings ??= new SessionSettings();
        return Create(path, settings, options => new Ort.InferenceSession(path, options));
    }

    /// <summary>Loads a model from its serialized bytes (ORT parses them during the call and keeps no reference).</summary>
    public static OnnxSession FromBytes(ReadOnlySpan<byte> model, SessionSettings? settings = null)
    {
        settings ??= new SessionSettings();
        byte[] bytes = model.ToArray(); // the official binding takes an array
        return Create($"<{bytes.Length} bytes>", settings, options => new Ort.InferenceSession(bytes, options));
    }

    private static OnnxSession Create(string source, SessionSettings settings, Func<Ort.SessionOptions, Ort.InferenceSession> load)
    {
        using var options = settings.CreateNative();
        Ort.InferenceSession session;
        try
        {
            session = load(options);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw RuntimeCallException.From(source, e);
        }
        try
        {
            return new OnnxSession(session, source, settings.Device);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The file path, or "&lt;N bytes&gt;" for a model loaded from memory.</summary>
    public string Source { get; }

    /// <summary>Where the session's graph runs.</summary>
    public ComputeDevice Device { get; }

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
        using var inputValues = new TensorValues(inputs, writable: false);
        Ort.IDisposableReadOnlyCollection<Ort.OrtValue> results;
        Enter();
        try
        {
            results = _session.Run(_runOptions, inputValues.Names, inputValues.Values, outputNames);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw RuntimeCallException.From(Source, e);
        }
        finally
        {
            Exit();
        }

        // Each tensor takes ownership of its OrtValue; the collection itself is then dropped undisposed.
        var tensors = new Tensor[results.Count];
        int taken = 0;
        try
        {
            foreach (Ort.OrtValue value in results)
            {
                tensors[taken] = OrtOutputStorage.ToTensor(outputNames[taken], value);
                taken++;
            }
        }
        catch
        {
            foreach (Tensor? t in tensors) t?.Dispose();
            foreach (Ort.OrtValue v in results.Skip(taken + 1)) v.Dispose();
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
        using var inputValues = new TensorValues(inputs, writable: false);
        using var outputValues = new TensorValues(outputs, writable: true);
        Guarded(() => _session.Run(_runOptions, inputValues.Names, inputValues.Values, outputValues.Names, outputValues.Values));
    }

    /// <summary>
    /// Binds the given tensors once (an <c>OrtIoBinding</c>) so that <see cref="BoundRun.Run"/> can run the
    /// model again and again (e.g. after changing input contents in place) with one native call each.
    /// The tensors must stay alive, undisposed, for as long as the bound run is used.
    /// </summary>
    public BoundRun Bind(IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs) =>
        new(this, inputs, outputs);

    internal Ort.OrtIoBinding CreateBinding()
    {
        Enter();
        try { return _session.CreateIoBinding(); }
        finally { Exit(); }
    }

    internal void RunBound(Ort.OrtIoBinding binding) => Guarded(() => _session.RunWithBinding(_runOptions, binding));

    /// <summary>One call into ORT under a lease (a concurrent Dispose cannot free the session mid-call), its failure named after the model.</summary>
    private void Guarded(Action call)
    {
        Enter();
        try
        {
            call();
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw RuntimeCallException.From(Source, e);
        }
        finally
        {
            Exit();
        }
    }

    private void Enter()
    {
        while (true)
        {
            int n = Volatile.Read(ref _leases);
            if (n == 0) throw new ObjectDisposedException(nameof(OnnxSession), $"the session for {Source} is disposed");
            if (Interlocked.CompareExchange(ref _leases, n + 1, n) == n) return;
        }
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _leases) == 0) ReleaseNative();
    }

    private void ReleaseNative()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }

    private int _disposed;

    /// <summary>Gives up the owner's lease (once); the native session goes now, or when the last run in flight ends.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Exit();
    }

    public override string ToString() => $"OnnxSession({Source})";

    private static TensorInfo[] Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, Ort.NodeMetadata> metadata)
    {
        var result = new TensorInfo[names.Count];
        for (int i = 0; i < result.Length; i++)
        {
            string name = names[i];
            Ort.NodeMetadata m = metadata[name];
            var kind = (OnnxValueKind)(int)m.OnnxValueType;
            if (kind != OnnxValueKind.Tensor || !m.IsTensor)
            {
                result[i] = new TensorInfo(name, kind, OnnxElementType.Undefined, [], []);
                continue;
            }
            var shape = m.Dimensions.Select(d => d < 0 ? -1L : d).ToArray();
            var symbols = m.SymbolicDimensions.Select(s => s ?? "").ToArray();
            result[i] = new TensorInfo(name, kind, (OnnxElementType)(int)m.ElementDataType, shape, symbols);
        }
        return result;
    }
}
