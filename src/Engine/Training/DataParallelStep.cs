using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Training;

/// <summary>
/// The cross-entropy gradient of one mini-batch, optionally split into equal micro-batches run side
/// by side in single-threaded gradient sessions that all read the same parameter tensors. The batch
/// gradient is then sum_c (1/K) g_c, added in micro-batch order in float64 and rounded once, so it
/// depends on the micro-batch size but not on how many threads ran them. With one micro-batch the
/// session's own buffers are the result (ONNX Runtime may then use several intra-op threads).
/// </summary>
internal sealed class DataParallelStep : IDisposable
{
    private readonly GradientSession[] _sessions;
    private readonly int _threads;
    private readonly Dictionary<string, Tensor>? _combined;
    private readonly double[][]? _sums;

    public DataParallelStep(OnnxModel model, GradientRequest request, int microBatches, int threads,
        IReadOnlyDictionary<string, Tensor> parameters)
    {
        _threads = threads == 0 ? Environment.ProcessorCount : threads;
        var options = new SessionSettings { IntraOpThreads = microBatches == 1 ? threads : 1 };
        var sessions = new List<GradientSession>();
        try
        {
            for (int c = 0; c < microBatches; c++) sessions.Add(GradientSession.Create(model, request, options, parameters));
            _sessions = [.. sessions];
        }
        catch
        {
            foreach (var s in sessions) s.Dispose();
            throw;
        }
        if (microBatches > 1)
        {
            var names = request.Parameters;
            _combined = names.ToDictionary(p => p, p => Tensor.Allocate(p, DType.F32, parameters[p].Shape), StringComparer.Ordinal);
            _sums = names.Select(p => new double[parameters[p].ElementCount]).ToArray();
        }
    }

    /// <summary>The gradient of the last <see cref="Step"/>, by parameter name.</summary>
    public IReadOnlyDictionary<string, Tensor> Gradients => _combined ?? _sessions[0].Gradients;

    /// <summary>Runs forward and backward on the samples (by model input name) at <paramref name="indices"/>; returns the mean loss of the batch.</summary>
    public double Step(IReadOnlyDictionary<string, Tensor> samples, Tensor labels, ReadOnlySpan<int> indices)
    {
        int k = _sessions.Length, micro = indices.Length / k;
        for (int c = 0; c < k; c++)
        {
            var s = _sessions[c];
            var part = indices.Slice(c * micro, micro);
            foreach (var (name, data) in samples) Gather(data, part, s.Inputs[name]);
            var y = labels.Read<long>();
            var yb = s.Inputs[s.Graph.Labels!.Name].Write<long>();
            for (int i = 0; i < part.Length; i++) yb[i] = y[part[i]];
        }
        if (k == 1) return _sessions[0].Step();

        var losses = new double[k];
        Parallel.For(0, k, new ParallelOptions { MaxDegreeOfParallelism = _threads }, c => losses[c] = _sessions[c].Step());
        var names = _combined!.Keys.ToArray();
        for (int p = 0; p < names.Length; p++)
        {
            var acc = _sums![p];
            Array.Clear(acc);
            for (int c = 0; c < k; c++)
            {
                var g = _sessions[c].Gradients[names[p]].Read<float>();
                for (int i = 0; i < acc.Length; i++) acc[i] += g[i];
            }
            var w = _combined[names[p]].Write<float>();
            for (int i = 0; i < acc.Length; i++) w[i] = (float)(acc[i] / k);
        }
        double loss = 0;
        foreach (double l in losses) loss += l;
        return loss / k;
    }

    /// <summary>Copies the samples at <paramref name="indices"/> into the batch buffer, in that order.</summary>
    internal static void Gather(Tensor samples, ReadOnlySpan<int> indices, Tensor batch)
    {
        long rowBytes = samples.ByteLength / samples.Shape[0];
        int row = checked((int)rowBytes);
        var target = batch.Write<byte>();
        for (int i = 0; i < indices.Length; i++)
            samples.Read<byte>(indices[i] * rowBytes, row).CopyTo(target.Slice(i * row, row));
    }

    public void Dispose()
    {
        foreach (var s in _sessions) s.Dispose();
        if (_combined is not null)
            foreach (var t in _combined.Values) t.Dispose();
    }
}
