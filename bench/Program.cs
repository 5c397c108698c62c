using BenchmarkDotNet.Running;

// Every suite in this assembly; pick with --filter, e.g. `./build.sh --target=Bench --filter=*Bf16*`.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
