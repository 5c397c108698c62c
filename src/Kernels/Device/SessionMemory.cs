using ILGPU;

namespace Amalgam.Kernels.Device;

/// <summary>
/// Memory that ONNX Runtime's sessions read and write when the ILGPU accelerator's own buffers cannot be
/// bound to them, and the copies between the two. On CUDA this is the case: ILGPU 1.5.3's accelerator
/// creates its own context (<c>cuCtxCreate</c>) while ORT's CUDA provider works in the device's primary
/// context, and a kernel cannot dereference another context's allocation; so theta and the gradients the
/// sessions bind live in the primary context (<see cref="Cuda.PrimaryContextMemory"/>) and are copied device
/// to device (<c>cuMemcpyPeerAsync</c>) around ILGPU's kernels: two copies of theta's size per step, no host
/// round trip. ILGPU's CPU accelerator needs none (its buffers are host memory ORT binds in place:
/// <see cref="DeviceContext.Sessions"/> is null); <see cref="HostSessionMemory"/> stages through separate host
/// memory so tests exercise the copying path. Allocations are freed by <see cref="IDisposable.Dispose"/>.
/// </summary>
public abstract class SessionMemory : IDisposable
{
    /// <summary>Where the sessions see this memory (the device ORT binds it with).</summary>
    public abstract ComputeDevice Place { get; }

    /// <summary>At least <paramref name="bytes"/> bytes (contents undefined), valid until this is disposed.</summary>
    public abstract IntPtr Allocate(long bytes);

    /// <summary>Copies <paramref name="source"/> (ILGPU's, whose writers have finished) to <paramref name="destination"/>; returns when done.</summary>
    public abstract void ToSession(IntPtr destination, ArrayView<float> source);

    /// <summary>Copies <paramref name="source"/> (written by a session run that has returned) to <paramref name="destination"/>; returns when done.</summary>
    public abstract void FromSession(ArrayView<float> destination, IntPtr source);

    public abstract void Dispose();
}
