using System.CommandLine;
using Amalgam.Cli;
using Amalgam.Cli.Commands;

// amalgam: merge fine-tuned copies of one network into a single multi-task model.
// Exit codes (a contract scripts rely on): 0 ok, 2 bad usage or bad input, 1 internal error.
var root = new RootCommand("Amalgam: merge fine-tuned copies of one neural network (ONNX, safetensors) into one multi-task model.")
{
    InspectCommand.Create(),
};
return CommandRunner.Run(root, args);
