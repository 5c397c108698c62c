namespace Amalgam.Kernels.Blas;

/// <summary>
/// A native library (or one of the functions we need from it) could not be loaded. The message is
/// one line: what is missing, where we looked, and how to install it. This is an environment
/// problem the user fixes, not a bug in the input or in Amalgam.
/// </summary>
public sealed class NativeLibraryMissingException : Exception
{
    public NativeLibraryMissingException(string message) : base(message) { }
    public NativeLibraryMissingException(string message, Exception inner) : base(message, inner) { }
}
