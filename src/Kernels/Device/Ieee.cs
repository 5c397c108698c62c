using ILGPU;
using ILGPU.Runtime.Cuda;

namespace Amalgam.Kernels.Device;

/// <summary>
/// Float arithmetic of the device kernels: each operation rounded once to nearest-even and never fused,
/// as the SIMD kernels compute (.NET never contracts a * b + c into an FMA). Kernels are generic over it
/// and <see cref="DeviceContext"/> loads the instance for its accelerator: <see cref="HostIeee"/> on
/// ILGPU's CPU accelerator, <see cref="PtxIeee"/> on CUDA. Division and square root need no wrapper:
/// ILGPU writes div.rn / sqrt.rn in its default math mode.
/// </summary>
internal interface IIeee
{
    float Add(float a, float b);
    float Sub(float a, float b);
    float Mul(float a, float b);
    double Add(double a, double b);
    double Mul(double a, double b);
}

/// <summary>The C# operators (the kernel runs as .NET code).</summary>
internal readonly struct HostIeee : IIeee
{
    public float Add(float a, float b) => a + b;
    public float Sub(float a, float b) => a - b;
    public float Mul(float a, float b) => a * b;
    public double Add(double a, double b) => a + b;
    public double Mul(double a, double b) => a * b;
}

/// <summary>
/// Explicitly rounded PTX. ILGPU writes C#'s + and * as add.f32 / mul.f32 without a rounding modifier,
/// which ptxas may fuse into fma ("mul/add sequences with no rounding modifiers may be optimized to use
/// fused-multiply-add", PTX ISA, add/mul); the .rn forms are never contracted. DevicePtxTests checks the
/// PTX of every kernel.
/// </summary>
internal readonly struct PtxIeee : IIeee
{
    public float Add(float a, float b) { CudaAsm.Emit("add.rn.f32 %0, %1, %2;", out float r, a, b); return r; }
    public float Sub(float a, float b) { CudaAsm.Emit("sub.rn.f32 %0, %1, %2;", out float r, a, b); return r; }
    public float Mul(float a, float b) { CudaAsm.Emit("mul.rn.f32 %0, %1, %2;", out float r, a, b); return r; }
    public double Add(double a, double b) { CudaAsm.Emit("add.rn.f64 %0, %1, %2;", out double r, a, b); return r; }
    public double Mul(double a, double b) { CudaAsm.Emit("mul.rn.f64 %0, %1, %2;", out double r, a, b); return r; }
}

internal static class Ieee
{
    /// <summary>|x| by clearing the sign bit, as MathF.Abs and Vector*.Abs do (NaN payloads kept).</summary>
    public static float Abs(float x) => Interop.IntAsFloat(Interop.FloatAsInt(x) & 0x7fffffffu);
}
