using System.Runtime.InteropServices;
using Amalgam.Kernels.Device.Cuda;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Amalgam.Kernels.Device;

/// <summary>
/// Owns one ILGPU context and one accelerator: ILGPU's CPU accelerator (<c>cpu</c>, kernels run as .NET
/// code on emulated GPU threads) or a CUDA device (<c>cuda</c> = <c>cuda:0</c>, <c>cuda:N</c>). The
/// kernels in this namespace take device views and launch on <see cref="Accelerator"/>'s default stream,
/// in call order; <see cref="Synchronize"/> waits for them. Loaded kernels are cached here. Dispose
/// releases the accelerator, then the context (buffers must be disposed first; ILGPU frees any left over
/// with the accelerator); it is idempotent and every member throws <see cref="ObjectDisposedException"/> after it.
/// </summary>
public sealed class DeviceContext : IDisposable
{
    private readonly Dictionary<string, Delegate> _kernels = [];
    private Context? _context;
    private Accelerator? _accelerator;

    private DeviceContext(Context context, Accelerator accelerator, string name, Func<Accelerator, SessionMemory?> sessions)
    {
        _context = context;
        _accelerator = accelerator;
        Name = name;
        try
        {
            Sessions = sessions(accelerator);
        }
        catch
        {
            accelerator.Dispose();
            throw;
        }
    }

    /// <summary>What was asked for, normalised: <c>cpu</c> or <c>cuda:N</c>.</summary>
    public string Name { get; }

    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;

    /// <summary>
    /// Where buffers that ONNX Runtime's sessions bind must live, and the copies to and from them; null when
    /// the sessions bind this accelerator's buffers in place (ILGPU's CPU accelerator: host memory). On CUDA,
    /// the device's primary context (<see cref="PrimaryContextMemory"/>; why: <see cref="SessionMemory"/>).
    /// </summary>
    public SessionMemory? Sessions { get; private set; }

    public Accelerator Accelerator => _accelerator ?? throw new ObjectDisposedException(nameof(DeviceContext));

    /// <summary>Threads of one grid-stride launch: what the accelerator runs at once (results never depend on it).</summary>
    public int GridWidth => Math.Max(1, Accelerator.MaxNumThreads);

    /// <summary>
    /// <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c> (the value of a <c>--device</c> option). Throws
    /// <see cref="BadInputException"/> (one line) for any other value, and for a CUDA device this
    /// machine does not have, saying what is missing.
    /// </summary>
    public static DeviceContext Create(string device)
    {
        ComputeDevice parsed = ComputeDevice.Parse(device);
        return parsed.IsCuda ? Cuda(device, parsed.Id) : Cpu(new CPUDevice(4, 4, 1), "cpu", stagedSessions: false);
    }

    /// <summary>
    /// ILGPU's CPU accelerator simulating <paramref name="groups"/> multiprocessors of
    /// <paramref name="warpsPerGroup"/> warps of <paramref name="threadsPerWarp"/> threads (for tests:
    /// the same kernels on differently shaped machines give the same bits). With <paramref name="stagedSessions"/>,
    /// sessions bind separate host memory copied to and from the accelerator's buffers (<see cref="HostSessionMemory"/>:
    /// CUDA's staging path, without a GPU).
    /// </summary>
    public static DeviceContext Cpu(int threadsPerWarp, int warpsPerGroup, int groups, bool stagedSessions = false) =>
        Cpu(new CPUDevice(threadsPerWarp, warpsPerGroup, groups), "cpu", stagedSessions);

    private static DeviceContext Cpu(CPUDevice device, string name, bool stagedSessions)
    {
        var context = Context.Create(b => b.CPU(device));
        try
        {
            return new DeviceContext(context, device.CreateAccelerator(context), name, a => stagedSessions ? new HostSessionMemory(a) : null);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static DeviceContext Cuda(string asked, int index)
    {
        var context = Context.Create(b => b.CPU(CPUDeviceKind.Default).Cuda());
        try
        {
            CudaDevice[] devices = [.. context.GetCudaDevices()];
            if (devices.Length == 0)
                throw new BadInputException($"--device {asked}: no CUDA device found (ILGPU sees: {Seen(context)}; {WhyNoCuda()}); use --device cpu");
            if (index >= devices.Length)
                throw new BadInputException($"--device {asked}: no CUDA device {index}; this machine has {devices.Length} ({string.Join(", ", Enumerable.Range(0, devices.Length).Select(i => $"cuda:{i} {devices[i].Name}"))})");
            Accelerator accelerator;
            try
            {
                accelerator = devices[index].CreateAccelerator(context);
            }
            catch (Exception e) when (e is not BadInputException)
            {
                throw new BadInputException($"--device {asked}: cannot start {devices[index].Name}: {e.Message.ReplaceLineEndings(" ")}", e);
            }
            return new DeviceContext(context, accelerator, $"cuda:{index}", a => PrimaryContext(a, asked, index));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static PrimaryContextMemory PrimaryContext(Accelerator accelerator, string asked, int index)
    {
        try
        {
            return new PrimaryContextMemory(accelerator, index);
        }
        catch (CudaDriverException e)
        {
            throw new BadInputException($"--device {asked}: cannot reach the device's primary context (where ONNX Runtime runs): {e.Message}", e);
        }
    }

    private static string Seen(Context context) =>
        string.Join(", ", context.Devices.Select(d => d.AcceleratorType.ToString()).Distinct());

    /// <summary>Why ILGPU found no CUDA device: the driver library is missing, or it reports none.</summary>
    private static string WhyNoCuda()
    {
        string library = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(library, out var handle)) return $"the CUDA driver library {library} is not installed or not loadable";
        NativeLibrary.Free(handle);
        return $"the CUDA driver ({library}) reports no usable device";
    }

    /// <summary>
    /// Makes this accelerator current on the calling thread until disposed: ILGPU's binding, and on CUDA its context
    /// pushed on the thread's context stack. ILGPU alone is not enough where ONNX Runtime runs on the same thread:
    /// ILGPU skips <c>cuCtxSetCurrent</c> when it believes it is still bound, while ORT's CUDA provider makes the
    /// device's primary context current (<c>cudaSetDevice</c>) at every run, so a later kernel would launch in ORT's
    /// context. The push/pop pair restores whatever was current before.
    /// </summary>
    public Binding Enter()
    {
        var scope = Accelerator.BindScoped();
        if (!IsCuda) return new Binding(scope, pushed: false);
        try
        {
            CudaDriverNative.Instance.PushCurrent(Accelerator.NativePtr, $"{Name}, ILGPU's context");
            return new Binding(scope, pushed: true);
        }
        catch
        {
            scope.Dispose();
            throw;
        }
    }

    /// <summary>What <see cref="Enter"/> returns: disposing it pops the context it pushed and ends ILGPU's binding.</summary>
    public readonly struct Binding : IDisposable
    {
        private readonly ScopedAcceleratorBinding _scope;
        private readonly bool _pushed;

        internal Binding(ScopedAcceleratorBinding scope, bool pushed)
        {
            _scope = scope;
            _pushed = pushed;
        }

        public void Dispose()
        {
            if (_pushed) CudaDriverNative.Instance.PopQuietly();
            _scope.Dispose();
        }
    }

    /// <summary>A device buffer of <paramref name="length"/> elements (contents undefined).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged =>
        Accelerator.Allocate1D<T>(length);

    /// <summary>A device buffer holding a copy of <paramref name="data"/>.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(data.Length);
        try
        {
            if (data.Length > 0) buffer.View.CopyFromCPU(Accelerator.DefaultStream, data);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="view"/> to a new array (after the work queued before it).</summary>
    public T[] Download<T>(ArrayView<T> view) where T : unmanaged
    {
        var result = new T[view.Length];
        if (result.Length > 0) view.CopyToCPU(Accelerator.DefaultStream, result);
        return result;
    }

    /// <summary>Copies <paramref name="buffer"/> to a new array (after the work queued before it).</summary>
    public T[] Download<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged => Download<T>(buffer.View);

    /// <summary>Waits until every kernel and copy queued so far has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>
    /// The kernel <paramref name="name"/>, loaded on first use and cached: <paramref name="host"/>'s instance
    /// (<see cref="HostIeee"/> arithmetic) on the CPU accelerator, <paramref name="cuda"/>'s (<see cref="PtxIeee"/>) on CUDA.
    /// </summary>
    internal TKernel Kernel<TKernel>(string name, Func<Accelerator, TKernel> host, Func<Accelerator, TKernel> cuda) where TKernel : Delegate
    {
        var accelerator = Accelerator;
        lock (_kernels)
        {
            if (!_kernels.TryGetValue(name, out var kernel))
                _kernels[name] = kernel = accelerator.AcceleratorType == AcceleratorType.Cuda ? cuda(accelerator) : host(accelerator);
            return (TKernel)kernel;
        }
    }

    /// <summary>Threads for a grid-stride launch over <paramref name="items"/> items: at least 1, at most <see cref="GridWidth"/>.</summary>
    internal int Width(long items) => (int)Math.Clamp(items, 1, GridWidth);

    public void Dispose()
    {
        lock (_kernels) _kernels.Clear();
        try
        {
            Sessions?.Dispose();
        }
        finally
        {
            Sessions = null;
            try
            {
                _accelerator?.Dispose();
            }
            finally
            {
                _accelerator = null;
                _context?.Dispose();
                _context = null;
            }
        }
    }
}
