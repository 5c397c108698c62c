using Amalgam.Cli;

// amalgam: merge fine-tuned copies of one network into a single multi-task model.
// Exit codes (a contract scripts rely on): 0 ok, 2 bad usage or bad input, 1 internal error.
return CommandRunner.Run(AmalgamCli.CreateRoot(), args);
