using System.CommandLine;
using Amalgam.Cli.Commands;

namespace Amalgam.Cli;

/// <summary>The command tree, one file per command under Commands/.</summary>
internal static class AmalgamCli
{
    public static RootCommand CreateRoot() =>
        new("Amalgam: merge fine-tuned copies of one neural network (ONNX, safetensors) into one multi-task model.")
        {
            InspectCommand.Create(),
            MergeCommand.Create(),
            GradCommand.Create(),
            EvalCommand.Create(),
            DemoCommand.Create(),
            AnalyzeCommand.Create(),
        };
}
