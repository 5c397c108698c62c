using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>
/// A run whose inputs and outputs are bound once in an <c>OrtIoBinding</c>: their OrtValues are made when
/// binding, so each <see cref="Run"/> is a single native call that creates nothing. Change input contents
/// in place between runs; outputs are overwritten in place. On the CUDA provider ORT copies the bound host
/// inputs to the device and the outputs back within the call. Not for concurrent use.
/// </summary>
public sealed class BoundRun : IDisposable
{
    private readonly OnnxSession _session;
    private readonly TensorValues _inputs;
    private readonly TensorValues _outputs;
    private readonly Ort.OrtIoBinding _binding;

    internal BoundRun(OnnxSession session, IReadOnlyDictionary<string, Tensor> inputs, IReadOnlyDictionary<string, Tensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        _session = session;
        _inputs = new TensorValues(inputs, writable: false);
        try
        {
            _outputs = new TensorValues(outputs, writable: true);
            _binding = session.CreateBinding();
            try
            {
                for (int i = 0; i < _inputs.Names.Length; i++) _binding.BindInput(_inputs.Names[i], _inputs.Values[i]);
                for (int i = 0; i < _outputs.Names.Length; i++) _binding.BindOutput(_outputs.Names[i], _outputs.Values[i]);
            }
            catch (Ort.OnnxRuntimeException e)
            {
                _binding.Dispose();
                throw RuntimeCallException.From(session.Source, e);
            }
        }
        catch
        {
            _inputs.Dispose();
            _outputs?.Dispose();
            throw;
        }
    }

    /// <summary>Runs the model on the bound tensors' current contents, writing the bound outputs.</summary>
    public void Run()
    {
        _inputs.EnsureTensorsAlive();
        _outputs.EnsureTensorsAlive();
        _session.RunBound(_binding);
    }

    public void Dispose()
    {
        _binding.Dispose();
        _inputs.Dispose();
        _outputs.Dispose();
    }
}
