using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// Named tensors wrapped as OrtValues over their own memory (<c>CreateTensorWithDataAsOrtValue</c>: ORT
/// reads and writes the tensor's buffer directly, nothing is copied). Keeps the tensors referenced and
/// the raw <c>OrtValue*</c> array at a fixed address for native calls.
/// </summary>
internal sealed unsafe class OrtValueSet : IDisposable
{
    private readonly OrtValueHandle[] _handles;
    private readonly IntPtr[] _raw; // pinned: lives on the pinned object heap, never moves
    private readonly Tensor[] _tensors;
    private readonly IntPtr[] _dataPointers;

    public OrtValueSet(OrtApi api, OrtEnvironment env, IReadOnlyDictionary<string, Tensor> tensors, bool writable)
    {
        Count = tensors.Count;
        Names = new string[Count];
        _tensors = new Tensor[Count];
        _handles = new OrtValueHandle[Count];
        _dataPointers = new IntPtr[Count];
        _raw = GC.AllocateArray<IntPtr>(Math.Max(1, Count), pinned: true);
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
                _handles[i] = Wrap(api, env, tensor);
                _raw[i] = _handles[i].Native;
                i++;
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Count { get; }
    public string[] Names { get; }

    /// <summary>The <c>OrtValue*</c> array, valid until disposal.</summary>
    public IntPtr* Values => (IntPtr*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_raw));

    /// <summary>Throws if a wrapped tensor was disposed since wrapping (its memory may be gone).</summary>
    public void EnsureTensorsAlive()
    {
        for (int i = 0; i < Count; i++)
        {
            // Tensor.Pointer throws ObjectDisposedException once the tensor is disposed.
            if ((IntPtr)_tensors[i].Pointer != _dataPointers[i])
                throw new InvalidOperationException($"tensor '{Names[i]}' moved since it was bound");
        }
    }

    private static OrtValueHandle Wrap(OrtApi api, OrtEnvironment env, Tensor tensor)
    {
        long[] shape = tensor.ShapeArray();
        IntPtr value;
        fixed (long* dims = shape)
            api.Check(api.CreateTensorWithDataAsOrtValue(env.CpuMemory.Native, tensor.Pointer, (nuint)tensor.ByteLength,
                dims, (nuint)shape.Length, tensor.DType.ToOnnx(), &value));
        return new OrtValueHandle(value);
    }

    public void Dispose()
    {
        foreach (OrtValueHandle? h in _handles) h?.Dispose();
        GC.KeepAlive(_tensors);
    }
}
