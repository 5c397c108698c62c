using System.CommandLine;

namespace Amalgam.Cli.Commands;

/// <summary>`amalgam inspect FILE [--json]`: what a checkpoint holds.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "a .safetensors file, a model.safetensors.index.json, or a folder holding either" };
        var json = new Option<bool>("--json") { Description = "print one JSON object instead of a table" };
        var command = new Command("inspect", "List every tensor of a checkpoint with dtype, shape and size, and the totals.") { file, json };
        command.SetAction(parsed => 0);
        return command;
    }
}
