using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;

namespace Amalgam.Engine.Zoo;

/// <summary>
/// Runs a model forward over images in fixed chunks, chunks side by side on one single-threaded
/// session (ONNX Runtime allows concurrent Run calls), so the result does not depend on the thread count.
/// </summary>
internal sealed class FeatureExtractor : IDisposable
{
    public const int Chunk = 256;
    private readonly OnnxSession _session;
    private readonly string _output;
    private readonly int _threads;

    public FeatureExtractor(OnnxModel model, string output, int threads)
    {
        _session = OnnxSession.FromBytes(model.ToInlineBytes(), new SessionSettings { IntraOpThreads = 1 });
        _output = output;
        _threads = threads == 0 ? Environment.ProcessorCount : threads;
    }

    /// <summary>Outputs [n, width] row-major for images f32 [n, 28, 28] (any shape with 784 values per image).</summary>
    public float[] Run(Tensor images, int width)
    {
        int n = checked((int)images.Shape[0]);
        int pixels = checked((int)(images.ElementCount / Math.Max(1, n)));
        var result = new float[(long)n * width];
        int chunks = (n + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads }, c =>
        {
            int start = c * Chunk, b = Math.Min(Chunk, n - start);
            using var batch = Tensor.Allocate(VitTowerGraph.InputName, DType.F32, [b, 1, 28, 28], zero: false);
            images.Read<float>((long)start * pixels, b * pixels).CopyTo(batch.Write<float>());
            using var outputs = _session.Run(new Dictionary<string, Tensor> { [VitTowerGraph.InputName] = batch }, [_output]);
            var y = outputs[0].Read<float>();
            if (y.Length != b * width) throw new InvalidOperationException($"output '{_output}' has {y.Length} values for {b} images, expected {b * width}");
            y.CopyTo(result.AsSpan(start * width, b * width));
        });
        return result;
    }

    /// <summary>
    /// Outputs [n, width] row-major for a model with any inputs: <paramref name="inputs"/> by input
    /// name, samples on the first axis, each chunk fed with the data's own dims (e.g. a text
    /// encoder's input_ids, attention_mask and token_type_ids [n, S]).
    /// </summary>
    public float[] Run(IReadOnlyDictionary<string, Tensor> inputs, int width)
    {
        int n = checked((int)inputs.Values.First().Shape[0]);
        var result = new float[(long)n * width];
        int chunks = (n + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads }, c =>
        {
            int start = c * Chunk, b = Math.Min(Chunk, n - start);
            var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                foreach (var (name, data) in inputs) feed[name] = Training.SampleRows.Copy(data, start, b);
                using var outputs = _session.Run(feed, [_output]);
                var y = outputs[0].Read<float>();
                if (y.Length != b * width) throw new InvalidOperationException($"output '{_output}' has {y.Length} values for {b} samples, expected {b * width}");
                y.CopyTo(result.AsSpan(start * width, b * width));
            }
            finally
            {
                foreach (var t in feed.Values) t.Dispose();
            }
        });
        return result;
    }

    /// <summary>Share of images whose argmax logit (first on ties, over all outputs) is the label.</summary>
    public double Accuracy(Tensor images, Tensor labels, int classes)
    {
        var logits = Run(images, classes);
        var y = labels.Read<long>();
        int correct = 0;
        for (int i = 0; i < y.Length; i++)
        {
            var row = logits.AsSpan(i * classes, classes);
            int arg = 0;
            for (int c = 1; c < classes; c++) if (row[c] > row[arg]) arg = c;
            if (arg == y[i]) correct++;
        }
        return (double)correct / y.Length;
    }

    public void Dispose() => _session.Dispose();
}
