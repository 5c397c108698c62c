using System.Runtime.InteropServices;

namespace Amalgam.Bench.Runtime.PreviousBinding;

/// <summary>Reads a session's input or output names, element types and shapes from ORT.</summary>
internal static unsafe class SessionMetadata
{
    public static TensorInfo[] Read(OrtApi api, IntPtr session, bool inputs)
    {
        nuint count;
        api.Check(inputs ? api.SessionGetInputCount(session, &count) : api.SessionGetOutputCount(session, &count));
        var result = new TensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* namePtr;
            api.Check(inputs
                ? api.SessionGetInputName(session, i, api.DefaultAllocator, &namePtr)
                : api.SessionGetOutputName(session, i, api.DefaultAllocator, &namePtr));
            string name;
            using (var owned = new OrtAllocatedStringHandle((IntPtr)namePtr)) name = owned.Value;

            IntPtr typeInfo;
            api.Check(inputs
                ? api.SessionGetInputTypeInfo(session, i, &typeInfo)
                : api.SessionGetOutputTypeInfo(session, i, &typeInfo));
            using var owner = new OrtTypeInfoHandle(typeInfo);
            result[(int)i] = Describe(api, name, typeInfo);
        }
        return result;
    }

    private static TensorInfo Describe(OrtApi api, string name, IntPtr typeInfo)
    {
        OnnxValueKind kind;
        api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &kind));
        IntPtr tensorInfo; // owned by typeInfo, not released separately
        api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
        if (kind != OnnxValueKind.Tensor || tensorInfo == IntPtr.Zero)
            return new TensorInfo(name, kind, OnnxElementType.Undefined, [], []);

        OnnxElementType elementType;
        api.Check(api.GetTensorElementType(tensorInfo, &elementType));
        nuint rank;
        api.Check(api.GetDimensionsCount(tensorInfo, &rank));
        var shape = new long[(int)rank];
        var symbols = new string[(int)rank];
        var symbolPtrs = new IntPtr[(int)rank];
        fixed (long* dims = shape) api.Check(api.GetDimensions(tensorInfo, dims, rank));
        fixed (IntPtr* syms = symbolPtrs) api.Check(api.GetSymbolicDimensions(tensorInfo, (byte**)syms, rank));
        for (int d = 0; d < symbols.Length; d++)
        {
            symbols[d] = symbolPtrs[d] == IntPtr.Zero ? "" : Marshal.PtrToStringUTF8(symbolPtrs[d]) ?? "";
            if (shape[d] < 0) shape[d] = -1; // ORT reports unknown dims as -1 already; normalise anyway
        }
        return new TensorInfo(name, kind, elementType, shape, symbols);
    }
}
