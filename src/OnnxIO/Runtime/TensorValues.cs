using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>
/// Named tensors wrapped as OrtValues over their own native memory (the official binding's
/// <c>OrtValue.CreateTensorValueWithData</c>: ORT reads and writes the tensor's buffer directly, nothing is
/// copied). Keeps the tensors referenced for as long as ORT may touch their memory.
/// </summary>
internal sealed unsafe class TensorValues : IDisposable
{
    private readonly Tensor[] _tensors;
    private readonly IntPtr[] _dataPointers;

    public TensorValues(IReadOnlyDictionary<string, Tensor> tensors, bool writable)
    {
        int count = tensors.Count;
        Names = new string[count];
        Values = new Ort.OrtValue[count];
        _tensors = new Tensor[count];
        _dataPointers = new IntPtr[count];
        int i = 0;
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                ArgumentNullException.ThrowIfNull(tensor, name);
                if (writable && tensor.IsReadOnly)
                    throw new ArgumentException($"output tensor '{name}' is read-only (memory-mapped); ORT cannot write into it", nameof(tensors));
                Names[i] = name;
                _tensors[i] = tensor;
                _dataPointers[i] = (IntPtr)tensor.Pointer;
                Values[i] = Wrap(tensor);
                i++;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string[] Names { get; }
    public Ort.OrtValue[] Values { get; }

    /// <summary>Throws if a wrapped tensor was disposed since wrapping (its memory may be gone).</summary>
    public void EnsureTensorsAlive()
    {
        for (int i = 0; i < _tensors.Length; i++)
        {
            // Tensor.Pointer throws ObjectDisposedException once the tensor is disposed.
            if ((IntPtr)_tensors[i].Pointer != _dataPointers[i])
                throw new InvalidOperationException($"tensor '{Names[i]}' moved since it was bound");
        }
    }

    private static Ort.OrtValue Wrap(Tensor tensor) =>
        Ort.OrtValue.CreateTensorValueWithData(MemoryInfo(tensor.Device),
            (Ort.Tensors.TensorElementType)(int)tensor.DType.ToOnnx(), tensor.ShapeArray(), (IntPtr)tensor.Pointer, tensor.ByteLength);

    private static readonly Dictionary<int, Ort.OrtMemoryInfo> s_cuda = [];

    /// <summary>
    /// Host memory, or CUDA device N's for a tensor over device memory (then ORT's CUDA provider reads and
    /// writes it in place: device-resident binding). One memory info per device, kept for the process.
    /// </summary>
    private static Ort.OrtMemoryInfo MemoryInfo(ComputeDevice device)
    {
        if (!device.IsCuda) return Ort.OrtMemoryInfo.DefaultInstance;
        lock (s_cuda)
        {
            if (!s_cuda.TryGetValue(device.Id, out var info))
                s_cuda[device.Id] = info = new Ort.OrtMemoryInfo(Ort.OrtMemoryInfo.allocatorCUDA, Ort.OrtAllocatorType.DeviceAllocator, device.Id, Ort.OrtMemType.Default);
            return info;
        }
    }

    public void Dispose()
    {
        foreach (Ort.OrtValue? v in Values) v?.Dispose();
        GC.KeepAlive(_tensors);
    }
}
