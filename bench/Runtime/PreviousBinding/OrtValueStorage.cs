using System.Runtime.InteropServices;
using Amalgam.Kernels;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>
/// Tensor storage that is the data of an ORT-allocated <c>OrtValue</c> (a Run output): a
/// <see cref="Tensor"/> views it without copying, and the OrtValue is released when the last view goes.
/// Read-only: the bytes belong to ORT.
/// </summary>
internal sealed unsafe class OrtValueStorage : TensorStorage
{
    // ORT may hand back a null data pointer for a tensor with no elements; tensors need a valid address.
    private static readonly IntPtr s_emptyData = (IntPtr)NativeMemory.AlignedAlloc(NativeStorage.Alignment, NativeStorage.Alignment);

    private readonly OrtValueHandle _value;
    private readonly long _length;

    private OrtValueStorage(OrtValueHandle value, void* data, long byteLength)
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

    /// <summary>
    /// A tensor named <paramref name="name"/> viewing the tensor in <paramref name="value"/>; takes
    /// ownership of <paramref name="value"/> (also on failure).
    /// </summary>
    public static Tensor ToTensor(OrtApi api, string name, OrtValueHandle value)
    {
        try
        {
            IntPtr v = value.Native;
            int isTensor;
            api.Check(api.IsTensor(v, &isTensor));
            if (isTensor == 0) throw new NotSupportedException($"output '{name}' is not a tensor; only tensor outputs are supported");

            IntPtr infoPtr;
            api.Check(api.GetTensorTypeAndShape(v, &infoPtr));
            OnnxElementType elementType;
            long[] shape;
            using (var info = new OrtTensorTypeAndShapeInfoHandle(infoPtr))
            {
                api.Check(api.GetTensorElementType(infoPtr, &elementType));
                nuint rank;
                api.Check(api.GetDimensionsCount(infoPtr, &rank));
                shape = new long[(int)rank];
                fixed (long* dims = shape) api.Check(api.GetDimensions(infoPtr, dims, rank));
            }
            if (!elementType.TryToDType(out DType dtype))
                throw new NotSupportedException($"output '{name}' has element type {elementType.DisplayName()}, which Amalgam tensors cannot hold");

            void* data;
            api.Check(api.GetTensorMutableData(v, &data));
            long bytes = checked(Shapes.ElementCount(shape) * dtype.Size());
            var storage = new OrtValueStorage(value, data, bytes);
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
