namespace Amalgam.Kernels;

/// <summary>
/// Input the user can fix: a malformed file, a mismatched tensor, a bad option value.
/// The message is one line and names the file, tensor or option; the CLI prints it and exits 2.
/// Anything else that escapes is an internal error (exit 1).
/// </summary>
public class BadInputException : Exception
{
    public BadInputException(string message) : base(message) { }
    public BadInputException(string message, Exception inner) : base(message, inner) { }
}
