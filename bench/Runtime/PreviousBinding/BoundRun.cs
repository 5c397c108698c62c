using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// A run whose inputs and outputs are bound once: their OrtValues and the native name arrays are made
/// when binding, so each <see cref="Run"/> is a single native call that creates nothing. Change input
/// contents in place between runs; outputs are overwritten in place. Not for concurrent use.
/// </summary>
internal sealed unsafe class BoundRun : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtValueSet _inputs;
    private readonly OrtValueSet _outputs;
    private readonly NativeUtf8Strings _inputNames;
    private readonly NativeUtf8Strings _outputNames;

    internal BoundRun(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        _session = session;
        _inputs = new OrtValueSet(session.Api, session.Environment, inputs, writable: false);
        try
        {
            _outputs = new OrtValueSet(session.Api, session.Environment, outputs, writable: true);
            _inputNames = new NativeUtf8Strings(_inputs.Names);
            _outputNames = new NativeUtf8Strings(_outputs.Names);
        }
        catch
        {
            _inputs.Dispose();
            _outputs?.Dispose();
            _inputNames?.Dispose();
            throw;
        }
    }

    /// <summary>Runs the model on the bound tensors' current contents, writing the bound outputs.</summary>
    public void Run()
    {
        _inputs.EnsureTensorsAlive();
        _outputs.EnsureTensorsAlive();
        _session.RunNative(_inputNames.Pointers, _inputs.Values, _inputs.Count, _outputNames.Pointers, _outputs.Values, _outputs.Count);
    }

    public void Dispose()
    {
        _inputs.Dispose();
        _outputs.Dispose();
        _inputNames.Dispose();
        _outputNames.Dispose();
    }
}
