using Amalgam.Engine.Training;
using Amalgam.Kernels.Blas;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.LayerInputs;

/// <summary>
/// Runs a model on ONNX Runtime with the inputs of its linear ops and layer norms as extra graph
/// outputs (<see cref="OnnxModel.AddOutputs"/>), batch by batch, and accumulates
/// <see cref="FeatureStats"/>. One session with one intra-op thread, batches in order, so results do
/// not depend on the caller's thread count.
/// <para>
/// Gram matrices: each batch's B x d_in block X_b gives X_b^T X_b by <c>ssyrk</c> in f32 (OpenBLAS
/// threads pinned by the caller), added into an f64 sum. Per entry the f32 error is at most
/// gamma_m sum_t |x_ti| |x_tj| with gamma_m = m u / (1 - m u), m the tokens of one batch and u = 2^-24
/// (Higham, Accuracy and Stability, Thm. 3.5); the f64 sum over batches adds nothing noticeable.
/// </para>
/// </summary>
public static class FeatureCollector
{
    public const int DefaultBatchSize = 32;

    /// <summary>
    /// Runs the first <paramref name="samples"/> samples of <paramref name="data"/> through
    /// <paramref name="model"/> (not modified; a copy gets the extra outputs).
    /// </summary>
    public static FeatureStats Collect(OnnxModel model, FeatureGraph graph, IReadOnlyDictionary<string, Tensor> data, long samples,
        FeatureRequest request, int batchSize = DefaultBatchSize, CancellationToken cancel = default, ComputeDevice device = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var copy = new OnnxModel(model.Proto.Clone(), model.BaseDirectory, model.DisplayName);
        var inputNames = data.Keys.ToHashSet(StringComparer.Ordinal);
        var wanted = graph.Linears.Where(_ => request.Grams || request.Rows).Select(l => l.Input)
            .Concat(graph.Norms.Where(_ => request.Norms).Select(n => n.Value))
            .Where(v => !inputNames.Contains(v)).Distinct().ToList();
        copy.AddOutputs(wanted);
        int fixedBatch = FixedBatch(model);
        long batch = fixedBatch > 0 ? fixedBatch : Math.Min(batchSize, samples);
        if (fixedBatch > 0 && samples % fixedBatch != 0)
            throw new BadInputException($"{model.DisplayName}: the model fixes a batch of {fixedBatch}, so the sample count ({samples}) must be a multiple of it");

        var stats = new FeatureStats();
        using var session = OnnxSession.FromBytes(copy.ToInlineBytes(), new SessionSettings { IntraOpThreads = 1, Device = device });
        for (long start = 0; start < samples; start += batch)
        {
            cancel.ThrowIfCancellationRequested();
            long b = Math.Min(batch, samples - start);
            var inputs = data.ToDictionary(kv => kv.Key, kv => Rows(kv.Value, start, b), StringComparer.Ordinal);
            try
            {
                using var outputs = session.Run(inputs, wanted);
                Tensor Value(string name) => inputs.TryGetValue(name, out var t) ? t : outputs[name];
                if (request.Grams || request.Rows)
                    foreach (var op in graph.Linears) AddLinear(stats, op, Value(op.Input), request);
                if (request.Norms)
                    foreach (var op in graph.Norms) AddNorm(stats, op, Value(op.Value));
            }
            finally
            {
                foreach (var t in inputs.Values) t.Dispose();
            }
        }
        foreach (var (name, sums) in stats.NormSquares)
        {
            double n = stats.Tokens[name];
            for (int d = 0; d < sums.Length; d++) sums[d] /= n;
        }
        return stats;
    }

    private static void AddLinear(FeatureStats stats, LinearOp op, Tensor x, FeatureRequest request)
    {
        var values = Float32(x, op.DIn, op.Node);
        int rows = values.Length / op.DIn;
        stats.Tokens[op.Weight] = stats.Tokens.GetValueOrDefault(op.Weight) + rows;
        if (request.Rows)
        {
            if (!stats.RowBlocks.TryGetValue(op.Weight, out var blocks)) stats.RowBlocks[op.Weight] = blocks = [];
            blocks.Add(values);
        }
        if (request.Grams)
        {
            int d = op.DIn;
            if (!stats.Grams.TryGetValue(op.Weight, out var acc)) stats.Grams[op.Weight] = acc = new double[(long)d * d];
            var g = new float[(long)d * d];
            BlasLevel3.Gram(rows, d, values, g);
            for (long i = 0; i < g.LongLength; i++) acc[i] += g[i];
        }
    }

    private static void AddNorm(FeatureStats stats, NormOp op, Tensor x)
    {
        var values = Float32(x, op.Dim, op.Node);
        int d = op.Dim, rows = values.Length / d;
        if (!stats.NormSquares.TryGetValue(op.Scale, out var acc)) stats.NormSquares[op.Scale] = acc = new double[d];
        stats.Tokens[op.Scale] = stats.Tokens.GetValueOrDefault(op.Scale) + rows;
        for (int r = 0; r < rows; r++)
        {
            var row = values.AsSpan(r * d, d);
            if (op.IsNormalized)
            {
                for (int i = 0; i < d; i++) acc[i] += (double)row[i] * row[i];
                continue;
            }
            // LayerNormalization: x_hat = (x - mean) / sqrt(var + eps), biased variance, over the last axis.
            double mean = 0, variance = 0;
            for (int i = 0; i < d; i++) mean += row[i];
            mean /= d;
            for (int i = 0; i < d; i++) variance += (row[i] - mean) * (row[i] - mean);
            variance /= d;
            double inv = 1 / Math.Sqrt(variance + op.Epsilon);
            for (int i = 0; i < d; i++)
            {
                double h = (row[i] - mean) * inv;
                acc[i] += h * h;
            }
        }
    }

    /// <summary>The tensor as f32 rows of <paramref name="width"/>; its last axis must be that width.</summary>
    private static float[] Float32(Tensor x, int width, string node)
    {
        if (x.Rank == 0 || x.Shape[^1] != width)
            throw new BadInputException($"node '{node}': its input is {Shapes.Format(x.Shape)}, expected a last axis of {width}");
        var values = new float[x.ElementCount];
        DTypeConvert.ToFloat32(x, values, 0);
        return values;
    }

    /// <summary>Rows [start, start + count) of a [N, ...] tensor as a new tensor.</summary>
    private static Tensor Rows(Tensor source, long start, long count)
    {
        var shape = source.ShapeArray();
        long rowBytes = source.ByteLength / shape[0];
        shape[0] = count;
        var t = Tensor.Allocate(source.Name, source.DType, shape, zero: false);
        source.Read<byte>(start * rowBytes, checked((int)(count * rowBytes))).CopyTo(t.Write<byte>());
        return t;
    }

    /// <summary>The batch size the model's inputs fix (first axis), or 0 when it is free.</summary>
    private static int FixedBatch(OnnxModel model)
    {
        var dims = ModelInput.Of(model).Select(i => i.Dims[0]).Where(d => d > 0).Distinct().ToList();
        return dims.Count == 1 ? checked((int)dims[0]) : 0;
    }
}
