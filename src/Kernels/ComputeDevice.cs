using System.Globalization;

namespace Amalgam.Kernels;

/// <summary>What kind of processor a computation runs on.</summary>
public enum DeviceKind { Cpu, Cuda }

/// <summary>
/// Where forward and gradient graphs (ONNX Runtime) and device kernels (ILGPU) run: the CPU, or CUDA
/// device <see cref="Id"/>. Spelled on the command line as <c>cpu</c>, <c>cuda</c> (device 0) or <c>cuda:N</c>.
/// </summary>
public readonly record struct ComputeDevice(DeviceKind Kind, int Id)
{
    public static ComputeDevice Cpu => new(DeviceKind.Cpu, 0);
    public static ComputeDevice Cuda(int id = 0) => new(DeviceKind.Cuda, id);

    public bool IsCuda => Kind == DeviceKind.Cuda;

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; anything else is a one-line <see cref="BadInputException"/> naming the option.</summary>
    public static ComputeDevice Parse(string text, string option = "--device")
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            return Cuda(id);
        throw new BadInputException($"{option} {text}: expected cpu, cuda or cuda:N (N = device index, 0 or more)");
    }

    public override string ToString() => IsCuda ? $"cuda:{Id.ToString(CultureInfo.InvariantCulture)}" : "cpu";
}
