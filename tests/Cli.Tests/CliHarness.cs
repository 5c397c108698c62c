using Amalgam.Cli;

namespace Amalgam.Cli.Tests;

/// <summary>Runs the CLI in-process with stdout and stderr captured.</summary>
internal static class CliHarness
{
    private static readonly object ConsoleLock = new();

    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        lock (ConsoleLock)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            TextWriter oldOut = Console.Out, oldErr = Console.Error;
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                int exit = CommandRunner.Run(AmalgamCli.CreateRoot(), args, stderr);
                return (exit, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}
