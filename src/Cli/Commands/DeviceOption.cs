using System.CommandLine;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Cli.Commands;

/// <summary>
/// The <c>--device cpu|cuda|cuda:N</c> option of merge, grad, eval and demo. A CUDA device is checked
/// before the command reads or writes anything: without the GPU flavour, a driver, the CUDA
/// libraries or that device, one line says which is missing (exit 2).
/// </summary>
internal static class DeviceOption
{
    public static Option<string> Create(string runs) => new("--device")
    {
        Description = $"where {runs} run: cpu, cuda or cuda:N (CUDA needs the GPU flavour: ./build.sh --target=Build --gpu)",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The parsed device, refused in one line (<see cref="DeviceUnavailableException"/>) when sessions cannot start on it.</summary>
    public static ComputeDevice Resolve(ParseResult parsed, Option<string> option)
    {
        var device = ComputeDevice.Parse(parsed.GetValue(option) ?? "cpu");
        SessionSettings.EnsureAvailable(device);
        return device;
    }
}
