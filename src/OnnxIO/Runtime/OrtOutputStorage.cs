using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Amalgam.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Amalgam.OnnxIO.Runtime;

/// <summary>
/// Tensor storage that is the data of an ORT-allocated OrtValue (a Run output): a <see cref="Tensor"/>
/// views it without copying, and the OrtValue is released when the last view goes. Read-only: the bytes
/// belong to ORT.
/// </summary>
internal sealed unsafe class OrtOutputStorage : TensorStorage
{
    // ORT may hand back no data for a tensor with no elements; tensors need a valid address.
    private static readonly IntPtr s_emptyData = (IntPtr)NativeMemory.AlignedAlloc(NativeStorage.Alignment, NativeStorage.Alignment);

    private readonly Ort.OrtValue _value;
    private readonly long _length;

    private OrtOutputStorage(Ort.OrtValue value, void* data, long byteLength)
    {
        _value = value;
        _length = byteLength;
        SetHandle(data == null ? s_emptyData : (IntPtr)data);
    }

    public override long ByteLength => _length;
    public override bool IsReadOnly => true;

    protected override bool ReleaseHandle()
    {
        _value.Dispose();
        return true;
    }

    /// <summary>A tensor named <paramref name="name"/> viewing <paramref name="value"/>; takes ownership of it (also on failure).</summary>
    public static Tensor ToTensor(string name, Ort.OrtValue value)
    {
        try
        {
            if (!value.IsTensor) throw new NotSupportedException($"output '{name}' is not a tensor; only tensor outputs are supported");
            var info = value.GetTensorTypeAndShape();
            var elementType = (OnnxElementType)(int)info.ElementDataType;
            if (!elementType.TryToDType(out DType dtype))
                throw new NotSupportedException($"output '{name}' has element type {elementType.DisplayName()}, which Amalgam tensors cannot hold");
            long[] shape = info.Shape;
            long bytes = checked(Shapes.ElementCount(shape) * dtype.Size());
            // The data is native memory that never moves, so its address outlives the span.
            Span<byte> raw = value.GetTensorMutableRawData();
            void* data = raw.IsEmpty ? null : Unsafe.AsPointer(ref MemoryMarshal.GetReference(raw));
            var storage = new OrtOutputStorage(value, data, bytes);
            try
            {
                return Tensor.View(name, dtype, shape, storage, 0);
            }
            finally
            {
                // The view holds its own reference; dropping ours makes the view the owner.
                storage.Dispose();
            }
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }
}
