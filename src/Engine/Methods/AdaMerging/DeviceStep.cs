using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.Kernels.Device;
using Amalgam.Kernels.Optim;
using ILGPU;
using ILGPU.Runtime;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// AdaMerging's step on an ILGPU device instead of the host kernels (the trainer's step backend for
/// `--device cuda`; on ILGPU's CPU accelerator in tests). theta0 and the task vectors are uploaded once in
/// the <see cref="SharedLayout"/>; theta(lambda) and every lane's gradient live in device buffers that ONNX
/// Runtime reads and writes (<see cref="Theta"/>, <see cref="LaneGradients"/>: tensors over
/// <see cref="ExternalStorage"/>, bound with the device's memory info, so on CUDA nothing crosses the bus
/// but the batch, the loss and the coefficients): the accelerator's own buffers, bound in place, or, where
/// the sessions cannot bind them (CUDA: ILGPU's context is not ORT's), buffers in
/// <see cref="DeviceContext.Sessions"/> with device-to-device copies after the merge and before each accumulation. Per step: <see cref="ThetaMerge"/> from the clamped
/// coefficients, <see cref="GradientAccumulate"/> per run in run order, <see cref="GradientDots"/>, and
/// <see cref="CoefficientStep"/> (masked Adam). The merge and the accumulation give the host's bits; the
/// float64 dots sum in another order (about 1e-15 relative), so coefficients agree with the host trainer's
/// to rounding, and bit for bit between runs and at any --threads (fixed-order reductions, no atomics).
/// </summary>
internal sealed class DeviceStep : IDisposable
{
    private readonly DeviceContext _device;
    private readonly SharedLayout _layout;
    private readonly List<IDisposable> _owned;   // the buffers below (views of them, at their exact lengths), the tensor views, the layout
    private readonly ArrayView<float> _theta0, _taus, _theta, _sum, _clamped, _raw, _firstMoment, _secondMoment;
    private readonly ArrayView<float>[] _laneGradients;
    private readonly ArrayView<double> _scratch, _dots;
    private readonly Staging? _staging;

    /// <summary>
    /// Where the sessions' theta and lane gradients are when they cannot bind the accelerator's buffers
    /// (<see cref="DeviceContext.Sessions"/>, on CUDA): theta is copied there after each merge, and a lane's
    /// gradient is copied from there into <see cref="DeviceStep._laneGradients"/>[0] (one staging buffer: lanes
    /// are accumulated one at a time) before it is added.
    /// </summary>
    private sealed record Staging(SessionMemory Memory, IntPtr Theta, IntPtr[] LaneGradients);

    private DeviceStep(DeviceContext device, SharedLayout layout, List<IDisposable> owned, ArrayView<float> theta0, ArrayView<float> taus,
        ArrayView<float> theta, ArrayView<float> sum, ArrayView<float> clamped, ArrayView<float> raw, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, ArrayView<float>[] laneGradients, ArrayView<double> scratch, ArrayView<double> dots,
        Tensor[] thetaViews, Tensor[][] gradientViews, Staging? staging)
    {
        _staging = staging;
        _device = device;
        _layout = layout;
        _owned = owned;
        _theta0 = theta0;
        _taus = taus;
        _theta = theta;
        _sum = sum;
        _clamped = clamped;
        _raw = raw;
        _firstMoment = firstMoment;
        _secondMoment = secondMoment;
        _laneGradients = laneGradients;
        _scratch = scratch;
        _dots = dots;
        Theta = thetaViews;
        LaneGradients = gradientViews;
    }

    /// <summary>theta(lambda) per shared tensor (in the store's order), in device memory: what the sessions read.</summary>
    public Tensor[] Theta { get; }

    /// <summary>Lane w's gradient per shared tensor, in device memory: what lane w's sessions write.</summary>
    public Tensor[][] LaneGradients { get; }

    public string DeviceName => _device.Name;

    /// <summary>
    /// Uploads <paramref name="tv"/> and allocates theta, the gradient sum, <paramref name="lanes"/> lanes' gradients and
    /// the <paramref name="coefficients"/> raw coefficients and their Adam moments.
    /// </summary>
    public static DeviceStep Create(DeviceContext device, TaskVectorStore tv, int lanes, int coefficients)
    {
        var owned = new List<IDisposable>();
        try
        {
            using var bind = device.Enter();
            var lengths = tv.Theta0.Select(t => t.ElementCount).ToArray();
            var layout = Owned.Add(owned, new SharedLayout(device, lengths, tv.K));
            long elements = layout.Elements, perTensor = (long)lengths.Length * tv.K;
            // ILGPU allocates at least one element; the views are the exact lengths the kernels check.
            MemoryBuffer1D<T, Stride1D.Dense> Buffer<T>(long length) where T : unmanaged => Owned.Add(owned, device.Allocate<T>(Math.Max(1, length)));
            ArrayView<T> View<T>(long length) where T : unmanaged => Buffer<T>(length).View.SubView(0, length);
            var theta0 = View<float>(elements);
            var taus = View<float>(elements * tv.K);
            var stream = device.Accelerator.DefaultStream;
            for (int l = 0; l < lengths.Length; l++)
            {
                if (lengths[l] == 0) continue;
                theta0.SubView(layout.Offset(l), lengths[l]).CopyFromCPU(stream, tv.Theta0[l].Read<float>());
                taus.SubView(layout.Offset(l) * tv.K, lengths[l] * tv.K).CopyFromCPU(stream, tv.Taus[l].Read<float>());
            }
            var theta = Buffer<float>(elements);
            var gradientNames = tv.Names.Select(GradientGraph.GradientName).ToArray();
            long bytes = elements * sizeof(float);
            var sessions = device.Sessions;
            Tensor[] thetaViews;
            var gradientViews = new Tensor[lanes][];
            ArrayView<float>[] gradients;
            Staging? staging = null;
            if (sessions is null)
            {
                // The sessions bind the accelerator's buffers in place.
                thetaViews = Views(theta.NativePtr, theta.LengthInBytes, ComputeDevice.Parse(device.Name), layout, tv, tv.Names, owned);
                gradients = new ArrayView<float>[lanes];
                for (int w = 0; w < lanes; w++)
                {
                    var buffer = Buffer<float>(elements);
                    gradients[w] = buffer.View.SubView(0, elements);
                    gradientViews[w] = Views(buffer.NativePtr, buffer.LengthInBytes, ComputeDevice.Parse(device.Name), layout, tv, gradientNames, owned);
                }
            }
            else
            {
                staging = new Staging(sessions, sessions.Allocate(bytes), new IntPtr[lanes]);
                thetaViews = Views(staging.Theta, bytes, sessions.Place, layout, tv, tv.Names, owned);
                for (int w = 0; w < lanes; w++)
                {
                    staging.LaneGradients[w] = sessions.Allocate(bytes);
                    gradientViews[w] = Views(staging.LaneGradients[w], bytes, sessions.Place, layout, tv, gradientNames, owned);
                }
                gradients = [View<float>(elements)];
            }
            var step = new DeviceStep(device, layout, owned, theta0, taus, theta.View.SubView(0, elements), View<float>(elements), View<float>(perTensor),
                View<float>(coefficients), View<float>(coefficients), View<float>(coefficients), gradients,
                Buffer<double>(GradientDots.ScratchLength(layout)).View, View<double>(perTensor), thetaViews, gradientViews, staging);
            device.Synchronize();
            return step;
        }
        catch
        {
            Owned.DisposeAll(owned);
            throw;
        }
    }

    /// <summary>One tensor per shared tensor over the <paramref name="bytes"/> at <paramref name="pointer"/> (on <paramref name="place"/>) at its layout offset.</summary>
    private static Tensor[] Views(IntPtr pointer, long bytes, ComputeDevice place, SharedLayout layout, TaskVectorStore tv,
        IReadOnlyList<string> names, List<IDisposable> owned)
    {
        var storage = Owned.Add(owned, new ExternalStorage(pointer, bytes, place));
        return names.Select((name, l) => Owned.Add(owned, Tensor.View(name, DType.F32, tv.Theta0[l].Shape, storage, layout.Offset(l) * sizeof(float)))).ToArray();
    }

    /// <summary>theta = theta0 + sum_k c[l][k] tau_k,l on the device (<paramref name="clamped"/>: [tensor * K + task]); returns when written.</summary>
    public void WriteTheta(ReadOnlySpan<float> clamped)
    {
        using var bind = _device.Enter();
        if (clamped.Length > 0) _clamped.CopyFromCPU(_device.Accelerator.DefaultStream, clamped);
        ThetaMerge.Run(_device, _layout, _theta0, _taus, _clamped, _theta);
        _device.Synchronize();
        _staging?.Memory.ToSession(_staging.Theta, _theta);
    }

    /// <summary>sum = lane w's gradient (<paramref name="first"/>) or sum + it; returns when done (the lane may run again).</summary>
    public void Accumulate(int lane, bool first)
    {
        using var bind = _device.Enter();
        if (_staging is not null) _staging.Memory.FromSession(_laneGradients[0], _staging.LaneGradients[lane]);
        GradientAccumulate.Run(_device, _laneGradients[_staging is null ? lane : 0], _sum, first);
        _device.Synchronize();
    }

    /// <summary>Queues dL/dc[l][k] = &lt;sum_l, tau_k,l&gt; into the device's dots.</summary>
    private void QueueDots() => GradientDots.Run(_device, _layout, _sum, _taus, _scratch, _dots);

    /// <summary>The dots, [tensor * K + task] (before the clamp's mask), on the host.</summary>
    public double[] Dots()
    {
        using var bind = _device.Enter();
        QueueDots();
        return _device.Download(_dots);
    }

    /// <summary>
    /// Adam step <paramref name="step"/> on the device from this step's gradient sum: copies the host's raw
    /// coefficients and moments in (the host arrays stay the truth, so a resumed state needs nothing more),
    /// runs <see cref="CoefficientStep"/> and copies them back.
    /// </summary>
    public void AdamStep(float[] raw, float[] firstMoment, float[] secondMoment, bool layerWise, in AdamSettings settings, long step)
    {
        using var bind = _device.Enter();
        var stream = _device.Accelerator.DefaultStream;
        QueueDots();
        _raw.CopyFromCPU(stream, raw);
        _firstMoment.CopyFromCPU(stream, firstMoment);
        _secondMoment.CopyFromCPU(stream, secondMoment);
        CoefficientStep.Run(_device, _layout.TensorCount, _layout.K, layerWise, _dots, _raw, _firstMoment, _secondMoment, settings, step, _clamped);
        _raw.CopyToCPU(stream, raw);
        _firstMoment.CopyToCPU(stream, firstMoment);
        _secondMoment.CopyToCPU(stream, secondMoment);
        _device.Synchronize();
    }

    public void Dispose()
    {
        Owned.DisposeAll(_owned);
        _owned.Clear();
    }
}
