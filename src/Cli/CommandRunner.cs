using System.CommandLine;
using Amalgam.Kernels;

namespace Amalgam.Cli;

/// <summary>Parses, runs, and maps failures to the exit-code contract with one-line errors.</summary>
internal static class CommandRunner
{
    public const int Ok = 0, InternalError = 1, BadInput = 2;

    /// <summary>Text printed after a subcommand's --help, by command name.</summary>
    public static readonly Dictionary<string, Func<string>> HelpEpilogs = new()
    {
        ["merge"] = Commands.MergeCommand.MethodHelp,
    };

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
            int exit = parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            // A command's long reference text (e.g. merge's method list) follows its own --help only,
            // so the root help stays one line per command.
            if (parsed.Action is System.CommandLine.Help.HelpAction && HelpEpilogs.TryGetValue(parsed.CommandResult.Command.Name, out var epilog))
                Console.Out.WriteLine(epilog());
            return exit;
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
