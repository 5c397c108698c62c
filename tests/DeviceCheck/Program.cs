using System.Text.RegularExpressions;
using NUnit.Framework.Api;
using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;
using System.Security;

namespace Amalgam.DeviceCheck;

/// <summary>
/// Runs the ILGPU device tests (namespace Amalgam.Kernels.Tests.Device, without Device.Cuda, whose tests use a
/// model of the CUDA driver from tests/fixtures) in-process with NUnit's own runner, on the accelerator
/// AMALGAM_DEVICE_TESTS names (cpu when unset). Prints a line per test and a summary; exit 0 when none failed,
/// 1 when any failed, 2 on bad arguments. Argument: an optional regex further restricting the tests' full names.
/// With --times, the kernels' times instead (<see cref="KernelTimes"/>).
/// </summary>
internal static class Program
{
    // The set-up fixture's suite is named like its class and is every device test's parent: a name matching it would
    // let its whole tree through, so it runs because its descendants match.
    private const string DeviceTests = @"^Amalgam\.Kernels\.Tests\.Device\.(?!Cuda\b|DeviceUnderTest$)";

    private static int Main(string[] args)
    {
        if (args is ["--times", ..])
            return Times(args[1..]);
        if (args.Length > 1 || args is ["-h" or "--help"])
        {
            Console.Error.WriteLine("usage: amalgam-device-check [REGEX]          the device tests (whose full names match REGEX)");
            Console.Error.WriteLine("       amalgam-device-check --times [K] [F]  kernel times, K task vectors (8) of ViT-B/32-shaped tensors times F (1)");
            Console.Error.WriteLine("AMALGAM_DEVICE_TESTS=cuda[:N] runs either on CUDA (default cpu: ILGPU's CPU accelerator)");
            return 2;
        }
        Regex? only = null;
        if (args.Length == 1)
        {
            try { only = new Regex(args[0]); }
            catch (ArgumentException e) { Console.Error.WriteLine($"amalgam-device-check: bad REGEX '{args[0]}' ({e.Message})"); return 2; }
        }
        var runner = new NUnitTestAssemblyRunner(new DefaultTestAssemblyBuilder());
        var settings = new Dictionary<string, object> { ["NumberOfTestWorkers"] = 0 };
        runner.Load(typeof(Amalgam.Kernels.Tests.Device.DeviceUnderTest).Assembly, settings);
        var listener = new ConsoleListener(only);
        string xml = $"<test re=\"1\">{SecurityElement.Escape(DeviceTests)}</test>";
        if (only is not null) xml = $"<and>{xml}<test re=\"1\">{SecurityElement.Escape(args[0])}</test></and>";
        var filter = TestFilter.FromXml($"<filter>{xml}</filter>");
        var result = runner.Run(listener, filter);
        if (result.PassCount + result.FailCount + result.SkipCount + result.InconclusiveCount == 0)
        {
            Console.Error.WriteLine($"amalgam-device-check: no device test matches{(only is null ? "" : $" '{args[0]}'")}");
            return 1;
        }
        Console.WriteLine($"device tests: {result.PassCount} passed, {result.FailCount} failed, {result.SkipCount + result.InconclusiveCount} skipped ({result.Duration:F1} s); {result.ResultState}");
        return result.FailCount > 0 || result.ResultState.Status == TestStatus.Failed ? 1 : 0;
    }

    private static int Times(string[] args)
    {
        int k = 8;
        double fraction = 1;
        if (args.Length > 2 || (args.Length > 0 && (!int.TryParse(args[0], out k) || k < 1))
            || (args.Length > 1 && (!double.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out fraction) || fraction <= 0 || fraction > 1)))
        {
            Console.Error.WriteLine("amalgam-device-check: --times takes K (an integer >= 1) and F (a fraction in (0, 1])");
            return 2;
        }
        try
        {
            using var device = Amalgam.Kernels.Device.DeviceContext.Create(Amalgam.Kernels.Tests.Device.DeviceUnderTest.Requested);
            return KernelTimes.Run(device, k, fraction);
        }
        catch (Amalgam.Kernels.BadInputException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private sealed class ConsoleListener(Regex? only) : ITestListener
    {
        public void TestStarted(ITest test) { }

        public void TestFinished(ITestResult result)
        {
            if (result.Test.IsSuite)
            {
                // A failing one-time set-up (no CUDA device, say) fails every test under it: say why once.
                if (result.ResultState.Site is FailureSite.SetUp or FailureSite.TearDown && result.ResultState.Status == TestStatus.Failed)
                    Console.WriteLine($"{result.ResultState.Site} of {result.FullName} failed: {OneLine(result.Message)}");
                return;
            }
            string status = result.ResultState.Status switch
            {
                TestStatus.Passed => "ok  ",
                TestStatus.Failed => "FAIL",
                _ => "skip",
            };
            Console.WriteLine($"{status} {result.FullName} ({result.Duration * 1000:F0} ms)");
            if (result.ResultState.Status != TestStatus.Passed && !string.IsNullOrEmpty(result.Message))
                Console.WriteLine("     " + OneLine(result.Message));
        }

        public void TestOutput(TestOutput output)
        {
            if (output.Stream == "Progress" || only is null) Console.Write(output.Text);
        }

        public void SendMessage(TestMessage message) { }

        private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
    }
}
