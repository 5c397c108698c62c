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
/// Runtime reads and writes in place (<see cref="Theta"/>, <see cref="LaneGradients"/>: tensors over
/// <see cref="ExternalStorage"/>, bound with the device's memory info, so on CUDA nothing crosses the bus
/// but the batch, the loss and the coefficients). Per step: <see cref="ThetaMerge"/> from the clamped
/// coefficients, <see cref="GradientAccumulate"/> per run in run order, <see cref="GradientDots"/>, and
/// <see cref="CoefficientStep"/> (masked Adam). The merge and the accumulation give the host's bits; the
/// float64 dots sum in another order (about 1e-15 relative), so coefficients agree with the host trainer's
/// to rounding, and bit for bit between runs and at any --threads (fixed-order reductions, no atomics).
/// </summary>
internal sealed class DeviceStep : IDisposable
{
    private readonly DeviceContext _device;
    private readonly SharedLayout _layout;
    private readonly List<IDisposable> _owned;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _theta0, _taus, _theta, _sum, _clamped;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _laneGradients;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _scratch, _dots;

    private DeviceStep(DeviceContext device, SharedLayout layout, List<IDisposable> owned, MemoryBuffer1D<float, Stride1D.Dense> theta0,
        MemoryBuffer1D<float, Stride1D.Dense> taus, MemoryBuffer1D<float, Stride1D.Dense> theta, MemoryBuffer1D<float, Stride1D.Dense> sum,
        MemoryBuffer1D<float, Stride1D.Dense> clamped, MemoryBuffer1D<float, Stride1D.Dense>[] laneGradients,
        MemoryBuffer1D<double, Stride1D.Dense> scratch, MemoryBuffer1D<double, Stride1D.Dense> dots, Tensor[] theta0Views, Tensor[][] gradientViews)
    {
        _device = device;
        _layout = layout;
        _owned = owned;
        _theta0 = theta0;
        _taus = taus;
        _theta = theta;
        _sum = sum;
        _clamped = clamped;
        _laneGradients = laneGradients;
        _scratch = scratch;
        _dots = dots;
        Theta = theta0Views;
        LaneGradients = gradientViews;
    }

    /// <summary>theta(lambda) per shared tensor (in the store's order), in device memory: what the sessions read.</summary>
    public Tensor[] Theta { get; }

    /// <summary>Lane w's gradient per shared tensor, in device memory: what lane w's sessions write.</summary>
    public Tensor[][] LaneGradients { get; }

    public string DeviceName => _device.Name;

    /// <summary>Uploads <paramref name="tv"/> and allocates theta, the gradient sum and <paramref name="lanes"/> lanes' gradients.</summary>
    public static DeviceStep Create(DeviceContext device, TaskVectorStore tv, int lanes)
    {
        var owned = new List<IDisposable>();
        try
        {
            using var bind = device.Accelerator.BindScoped();
            var lengths = tv.Theta0.Select(t => t.ElementCount).ToArray();
            var layout = Owned.Add(owned, new SharedLayout(device, lengths, tv.K));
            long elements = layout.Elements;
            var theta0 = Owned.Add(owned, device.Allocate<float>(Math.Max(1, elements)));
            var taus = Owned.Add(owned, device.Allocate<float>(Math.Max(1, elements * tv.K)));
            var stream = device.Accelerator.DefaultStream;
            for (int l = 0; l < lengths.Length; l++)
            {
                if (lengths[l] == 0) continue;
                theta0.View.SubView(layout.Offset(l), lengths[l]).CopyFromCPU(stream, tv.Theta0[l].Read<float>());
                taus.View.SubView(layout.Offset(l) * tv.K, lengths[l] * tv.K).CopyFromCPU(stream, tv.Taus[l].Read<float>());
            }
            var theta = Owned.Add(owned, device.Allocate<float>(Math.Max(1, elements)));
            var sum = Owned.Add(owned, device.Allocate<float>(Math.Max(1, elements)));
            var clamped = Owned.Add(owned, device.Allocate<float>(Math.Max(1, (long)lengths.Length * tv.K)));
            var scratch = Owned.Add(owned, device.Allocate<double>(GradientDots.ScratchLength(layout)));
            var dots = Owned.Add(owned, device.Allocate<double>(Math.Max(1, (long)lengths.Length * tv.K)));
            var thetaViews = Views(device, theta, layout, tv, tv.Names, owned);
            var gradients = new MemoryBuffer1D<float, Stride1D.Dense>[lanes];
            var gradientViews = new Tensor[lanes][];
            for (int w = 0; w < lanes; w++)
            {
                gradients[w] = Owned.Add(owned, device.Allocate<float>(Math.Max(1, elements)));
                gradientViews[w] = Views(device, gradients[w], layout, tv, tv.Names.Select(GradientGraph.GradientName).ToArray(), owned);
            }
            device.Synchronize();
            return new DeviceStep(device, layout, owned, theta0, taus, theta, sum, clamped, gradients, scratch, dots, thetaViews, gradientViews);
        }
        catch
        {
            Owned.DisposeAll(owned);
            throw;
        }
    }

    /// <summary>One tensor per shared tensor over <paramref name="buffer"/> at its layout offset.</summary>
    private static Tensor[] Views(DeviceContext device, MemoryBuffer1D<float, Stride1D.Dense> buffer, SharedLayout layout, TaskVectorStore tv,
        IReadOnlyList<string> names, List<IDisposable> owned)
    {
        var place = device.IsCuda ? ComputeDevice.Parse(device.Name) : ComputeDevice.Cpu;
        var storage = Owned.Add(owned, new ExternalStorage(buffer.NativePtr, buffer.LengthInBytes, place));
        return names.Select((name, l) => Owned.Add(owned, Tensor.View(name, DType.F32, tv.Theta0[l].Shape, storage, layout.Offset(l) * sizeof(float)))).ToArray();
    }

    /// <summary>theta = theta0 + sum_k c[l][k] tau_k,l on the device (<paramref name="clamped"/>: [tensor * K + task]); returns when written.</summary>
    public void WriteTheta(ReadOnlySpan<float> clamped)
    {
        using var bind = _device.Accelerator.BindScoped();
        if (clamped.Length > 0) _clamped.View.SubView(0, clamped.Length).CopyFromCPU(_device.Accelerator.DefaultStream, clamped);
        ThetaMerge.Run(_device, _layout, View(_theta0, _layout.Elements), View(_taus, _layout.Elements * _layout.K),
            View(_clamped, (long)_layout.TensorCount * _layout.K), View(_theta, _layout.Elements));
        _device.Synchronize();
    }

    /// <summary>sum = lane w's gradient (<paramref name="first"/>) or sum + it; returns when done (the lane may run again).</summary>
    public void Accumulate(int lane, bool first)
    {
        using var bind = _device.Accelerator.BindScoped();
        GradientAccumulate.Run(_device, View(_laneGradients[lane], _layout.Elements), View(_sum, _layout.Elements), first);
        _device.Synchronize();
    }

    /// <summary>Queues dL/dc[l][k] = &lt;sum_l, tau_k,l&gt; into the device's dots.</summary>
    private void QueueDots() =>
        GradientDots.Run(_device, _layout, View(_sum, _layout.Elements), View(_taus, _layout.Elements * _layout.K), _scratch.View, View(_dots, (long)_layout.TensorCount * _layout.K));

    /// <summary>The dots, [tensor * K + task] (before the clamp's mask), on the host.</summary>
    public double[] Dots()
    {
        using var bind = _device.Accelerator.BindScoped();
        QueueDots();
        return _device.Download(View(_dots, (long)_layout.TensorCount * _layout.K));
    }

    /// <summary>
    /// Adam step <paramref name="step"/> on the device from this step's gradient sum: uploads the host's raw
    /// coefficients and moments (the host arrays stay the truth, so a resumed state needs nothing more),
    /// runs <see cref="CoefficientStep"/> and downloads them again.
    /// </summary>
    public void AdamStep(float[] raw, float[] firstMoment, float[] secondMoment, bool layerWise, in AdamSettings settings, long step)
    {
        using var bind = _device.Accelerator.BindScoped();
        QueueDots();
        using var r = _device.Upload<float>(raw);
        using var m = _device.Upload<float>(firstMoment);
        using var v = _device.Upload<float>(secondMoment);
        CoefficientStep.Run(_device, _layout.TensorCount, _layout.K, layerWise, View(_dots, (long)_layout.TensorCount * _layout.K),
            r.View, m.View, v.View, settings, step, View(_clamped, (long)_layout.TensorCount * _layout.K));
        r.View.CopyToCPU(_device.Accelerator.DefaultStream, raw);
        m.View.CopyToCPU(_device.Accelerator.DefaultStream, firstMoment);
        v.View.CopyToCPU(_device.Accelerator.DefaultStream, secondMoment);
        _device.Synchronize();
    }

    private static ArrayView<T> View<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, long length) where T : unmanaged => buffer.View.SubView(0, length);

    public void Dispose()
    {
        Owned.DisposeAll(_owned);
        _owned.Clear();
    }
}
