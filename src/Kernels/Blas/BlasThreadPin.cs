namespace Amalgam.Kernels.Blas;

/// <summary>
/// Pins OpenBLAS to one thread for the duration of a data-dependent method's BLAS/LAPACK work and
/// restores the previous count: OpenBLAS results differ in the last bits across thread counts, and
/// output must not depend on `--threads`.
/// </summary>
public readonly struct BlasThreadPin : IDisposable
{
    private readonly int _previous;

    private BlasThreadPin(int previous) => _previous = previous;

    public static BlasThreadPin One()
    {
        int previous = OpenBlas.ThreadCount;
        OpenBlas.ThreadCount = 1;
        return new BlasThreadPin(previous);
    }

    public void Dispose()
    {
        if (_previous >= 1) OpenBlas.ThreadCount = _previous;
    }
}
