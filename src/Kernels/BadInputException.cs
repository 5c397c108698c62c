namespace Amalgam.Kernels;

/// <summary>
/// Input the caller can fix: a malformed file, a mismatched tensor, a bad parameter or option value.
/// The message is one line and names the file, tensor or option. It lives in the lowest assembly
/// because every layer validates what it is given (a kernel its shapes, a parser its bytes); what a
/// front end does with it is the front end's business (the CLI's mapping to exit codes is in
/// src/Cli/CommandRunner.cs).
/// </summary>
public class BadInputException : Exception
{
    public BadInputException(string message) : base(message) { }
    public BadInputException(string message, Exception inner) : base(message, inner) { }
}
