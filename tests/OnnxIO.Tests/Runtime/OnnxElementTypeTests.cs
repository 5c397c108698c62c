using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;
using DataType = Onnx.TensorProto.Types.DataType;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>Element type numbers agree with onnx.proto's TensorProto.DataType, and DType maps both ways.</summary>
public sealed class OnnxElementTypeTests
{
    [TestCase(DType.F32, DataType.Float)]
    [TestCase(DType.F16, DataType.Float16)]
    [TestCase(DType.BF16, DataType.Bfloat16)]
    [TestCase(DType.F64, DataType.Double)]
    [TestCase(DType.I64, DataType.Int64)]
    [TestCase(DType.I32, DataType.Int32)]
    [TestCase(DType.I8, DataType.Int8)]
    [TestCase(DType.U8, DataType.Uint8)]
    [TestCase(DType.Bool, DataType.Bool)]
    public void EveryDtypeHasTheOnnxNumberAndMapsBack(DType dtype, DataType onnx)
    {
        Assert.That((int)dtype.ToOnnx(), Is.EqualTo((int)onnx));
        Assert.That(dtype.ToOnnx().TryToDType(out DType back), Is.True);
        Assert.That(back, Is.EqualTo(dtype));
    }

    [Test]
    public void EveryNamedElementTypeHasTheOnnxProtoNumber()
    {
        foreach (OnnxElementType t in Enum.GetValues<OnnxElementType>())
        {
            string protoName = t switch { OnnxElementType.BFloat16 => "Bfloat16", OnnxElementType.UInt8 => "Uint8",
                OnnxElementType.UInt16 => "Uint16", OnnxElementType.UInt32 => "Uint32", OnnxElementType.UInt64 => "Uint64", _ => t.ToString() };
            Assert.That((int)Enum.Parse<DataType>(protoName), Is.EqualTo((int)t), t.ToString());
        }
    }

    [TestCase(OnnxElementType.String)]
    [TestCase(OnnxElementType.UInt16)]
    [TestCase(OnnxElementType.Complex64)]
    [TestCase((OnnxElementType)17)]
    public void TypesOurTensorsCannotHoldDoNotMap(OnnxElementType t)
    {
        Assert.That(t.TryToDType(out _), Is.False);
        Assert.That(t.DisplayName(), Is.Not.Empty);
    }
}
