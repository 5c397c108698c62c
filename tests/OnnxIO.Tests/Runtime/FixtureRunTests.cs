using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using Amalgam.OnnxIO.Safetensors;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>
/// The exported fixture models run through our binding and agree with torch's outputs stored beside
/// them (tests/fixtures/README.md).
/// </summary>
public sealed class FixtureRunTests
{
    private const double Tolerance = 1e-4;

    [TestCase("vit_tiny_op14.onnx", "vit_tiny_op14")]
    [TestCase("vit_tiny_op17.onnx", "vit_tiny_op17")]
    [TestCase("clip_tiny_op14.onnx", "clip_tiny_op14")]
    [TestCase("clip_tiny_op17.onnx", "clip_tiny_op17")]
    [TestCase("roberta_tiny_op14.onnx", "roberta_tiny_op14")]
    [TestCase("roberta_tiny_op17.onnx", "roberta_tiny_op17")]
    [TestCase("vit_tiny_op17_external.onnx", "vit_tiny_op17")]
    public void FixtureOutputsMatchTorch(string model, string reference)
    {
        using var file = SafetensorsFile.Open(Fixtures.Io(reference));
        var io = file.Names.ToDictionary(n => n, file.Get);
        try
        {
            var inputs = io.Where(kv => kv.Key.StartsWith("input.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["input.".Length..], kv => kv.Value);
            var expected = io.Where(kv => kv.Key.StartsWith("output.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["output.".Length..], kv => kv.Value);

            using var session = OnnxSession.FromFile(Fixtures.File(model), new SessionSettings { IntraOpThreads = 1 });
            Assert.That(session.Inputs.Select(i => i.Name), Is.EquivalentTo(inputs.Keys));
            Assert.That(session.Outputs.Select(o => o.Name), Is.EquivalentTo(expected.Keys));
            foreach (TensorInfo input in session.Inputs)
            {
                Assert.That(input.Shape[0], Is.EqualTo(-1), $"{input.Name}: batch axis is dynamic");
                Assert.That(input.SymbolicDims[0], Is.EqualTo("batch"));
                Assert.That(input.DType, Is.EqualTo(inputs[input.Name].DType));
            }

            using var outputs = session.Run(inputs);
            foreach (var (name, want) in expected)
            {
                Tensor got = outputs[name];
                Assert.That(got.Shape.ToArray(), Is.EqualTo(want.Shape.ToArray()), name);
                Assert.That(MaxAbsDifference(got.Read<float>(), want.Read<float>()), Is.LessThanOrEqualTo(Tolerance), name);
            }
        }
        finally
        {
            foreach (Tensor t in io.Values) t.Dispose();
        }
    }

    [Test]
    public void TinyVitAcceptsOtherBatchSizesAndEachRowIsIndependent()
    {
        // Row i of a batch-16 run equals the batch-1 run on that row alone (the dynamic batch axis works).
        using var session = OnnxSession.FromFile(Fixtures.File("vit_tiny_op17.onnx"), new SessionSettings { IntraOpThreads = 1 });
        using var batch = Tensor.Allocate("pixel_values", DType.F32, [16, 3, 28, 28]);
        var rng = new Random(11);
        Span<float> px = batch.Write<float>();
        for (int i = 0; i < px.Length; i++) px[i] = (float)rng.NextDouble();
        using var all = session.Run(new Dictionary<string, Tensor> { ["pixel_values"] = batch });
        int rowPixels = 3 * 28 * 28;
        foreach (int row in new[] { 0, 7, 15 })
        {
            using var one = Tensor.Allocate("pixel_values", DType.F32, [1, 3, 28, 28]);
            batch.Read<float>(row * rowPixels, rowPixels).CopyTo(one.Write<float>());
            using var single = session.Run(new Dictionary<string, Tensor> { ["pixel_values"] = one });
            Assert.That(MaxAbsDifference(single["logits"].Read<float>(), all["logits"].Read<float>(row * 10, 10)), Is.LessThanOrEqualTo(1e-5));
        }
    }

    private static double MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.That(a.Length, Is.EqualTo(b.Length));
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        return max;
    }
}
