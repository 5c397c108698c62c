using BenchmarkDotNet.Running;

// `endtoend`: the end-to-end merge driver (bench/EndToEnd); `cat-e2e`: CAT's phase split (bench/Cat); `adamerging-step`: AdaMerging's step split (bench/AdaMerging); anything else: every BenchmarkDotNet
// suite in this assembly, picked with --filter, e.g. `./build.sh --target=Bench --filter=*Bf16*`.
if (args.Length > 0 && args[0] == "cat-e2e") return Amalgam.Bench.Cat.CatEndToEnd.Run(args[1..]);
if (args.Length > 0 && args[0] == "adamerging-step") return Amalgam.Bench.AdaMerging.AdaMergingStepDriver.Run(args[1..]);
if (args.Length > 0 && args[0] == "endtoend") return Amalgam.Bench.EndToEnd.EndToEndDriver.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
