namespace Amalgam.Kernels.Simd;

/// <summary>
/// The vector widths a kernel may use, widest first, before its scalar tail (each only where the hardware
/// accelerates it). Production calls take <see cref="All"/>; tests take one width, or <see cref="None"/>
/// (scalar only), to run that path over a whole input and compare its bits with the scalar reference.
/// </summary>
[Flags]
internal enum VectorWidths
{
    None = 0,
    W128 = 1,
    W256 = 2,
    W512 = 4,
    All = W128 | W256 | W512,
}
