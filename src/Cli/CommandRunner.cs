using System.CommandLine;
using Amalgam.Kernels;

namespace Amalgam.Cli;

/// <summary>Parses, runs, and maps failures to the exit-code contract with one-line errors.</summary>
internal static class CommandRunner
{
    public const int Ok = 0, InternalError = 1, BadInput = 2;

    public static int Run(RootCommand root, string[] args, TextWriter? error = null)
    {
        error ??= Console.Error;
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            string command = parsed.CommandResult.Command is RootCommand ? "amalgam" : "amalgam " + parsed.CommandResult.Command.Name;
            // Some parser messages span lines (e.g. the list of allowed values); the contract is one line.
            string message = string.Join(" ", parsed.Errors[0].Message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            error.WriteLine($"amalgam: {message} (see '{command} --help')");
            return BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (BadInputException e)
        {
            error.WriteLine($"amalgam: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            error.WriteLine($"amalgam: internal error: {e.GetType().Name}: {e.Message}");
            if (Environment.GetEnvironmentVariable("AMALGAM_DEBUG") == "1") error.WriteLine(e);
            return InternalError;
        }
    }
}
