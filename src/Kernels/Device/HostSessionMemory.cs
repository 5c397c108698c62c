using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Kernels.Device;

/// <summary>
/// <see cref="SessionMemory"/> in host memory of its own, copied to and from an accelerator's buffers on its
/// default stream: what <see cref="Cuda.PrimaryContextMemory"/> does on CUDA, for ILGPU's CPU accelerator,
/// so the staging path (theta copied out after the merge, each gradient copied in before the accumulation)
/// runs and is tested without a GPU (<see cref="DeviceContext.Cpu(int, int, int, bool)"/>).
/// </summary>
public sealed unsafe class HostSessionMemory(Accelerator accelerator) : SessionMemory
{
    private readonly List<IntPtr> _allocations = [];

    public override ComputeDevice Place => ComputeDevice.Cpu;

    public override IntPtr Allocate(long bytes)
    {
        var p = (IntPtr)NativeMemory.AlignedAlloc((nuint)Math.Max(1, bytes), 64);
        lock (_allocations) _allocations.Add(p);
        return p;
    }

    public override void ToSession(IntPtr destination, ArrayView<float> source)
    {
        if (source.Length == 0) return;
        source.CopyToCPU(accelerator.DefaultStream, ref Unsafe.AsRef<float>((void*)destination), source.Length);
        accelerator.DefaultStream.Synchronize();
    }

    public override void FromSession(ArrayView<float> destination, IntPtr source)
    {
        if (destination.Length == 0) return;
        destination.CopyFromCPU(accelerator.DefaultStream, ref Unsafe.AsRef<float>((void*)source), destination.Length);
        accelerator.DefaultStream.Synchronize();
    }

    public override void Dispose()
    {
        lock (_allocations)
        {
            foreach (var p in _allocations) NativeMemory.AlignedFree((void*)p);
            _allocations.Clear();
        }
    }
}
