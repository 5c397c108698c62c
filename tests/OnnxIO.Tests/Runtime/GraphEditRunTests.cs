using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>The graph edits later methods rely on, run for real in ONNX Runtime.</summary>
public sealed class GraphEditRunTests
{
    [Test]
    public void IntermediateValuesExposedAsOutputsComeBackFromORT()
    {
        // Every MatMul input of the CLIP-style tower: the activations CAT and RegMean collect.
        var model = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        var initializers = model.ListInitializers().Select(i => i.Name).ToHashSet();
        var activations = model.Graph.Node.Where(n => n.OpType == "MatMul" && initializers.Contains(n.Input[1]))
            .Select(n => n.Input[0]).Distinct().ToList();
        Assert.That(activations, Is.Not.Empty);
        model.AddOutputs(activations);

        using var io = SafetensorsFile.Open(Fixtures.Io("clip_tiny_op17"));
        using var pixels = io.Get("input.pixel_values");
        using var expected = io.Get("output.logits");
        using var session = OnnxSession.FromBytes(model.ToInlineBytes(), new SessionSettings { IntraOpThreads = 1 });
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["pixel_values"] = pixels }, ["logits", .. activations]);
        // The original output is unchanged, and each activation is a [.., d_in] float tensor whose last
        // axis matches its weight's first axis (y = x W).
        float[] logits = outputs["logits"].Read<float>().ToArray(), want = expected.Read<float>().ToArray();
        for (int i = 0; i < want.Length; i++) Assert.That(logits[i], Is.EqualTo(want[i]).Within(1e-4));
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "MatMul" && initializers.Contains(n.Input[1])))
        {
            Tensor x = outputs[node.Input[0]];
            long dIn = model.ListInitializers().Single(i => i.Name == node.Input[1]).Shape[0];
            Assert.That(x.Shape[^1], Is.EqualTo(dIn), node.Input[0]);
            Assert.That(x.Read<float>().ToArray().All(float.IsFinite), Is.True);
        }
    }

    [Test]
    public void InitializersPromotedToInputsTakeTheValuesWeFeed()
    {
        // Feeding the model its own weights reproduces torch's output; feeding zeros for the head
        // weight and bias gives all-zero logits.
        var model = OnnxModel.Load(Fixtures.Onnx("clip_tiny_op17"));
        var head = model.ListInitializers().Where(i => i.Name.StartsWith("head.", StringComparison.Ordinal)).Select(i => i.Name).ToList();
        Assert.That(head, Has.Count.EqualTo(2));
        var values = head.ToDictionary(n => n, model.ReadInitializer);
        model.PromoteInitializersToInputs(head);
        using var io = SafetensorsFile.Open(Fixtures.Io("clip_tiny_op17"));
        using var pixels = io.Get("input.pixel_values");
        using var expected = io.Get("output.logits");
        using var session = OnnxSession.FromBytes(model.ToInlineBytes(), new SessionSettings { IntraOpThreads = 1 });

        var feeds = new Dictionary<string, Tensor>(values) { ["pixel_values"] = pixels };
        using (var same = session.Run(feeds))
        {
            float[] got = same["logits"].Read<float>().ToArray(), want = expected.Read<float>().ToArray();
            for (int i = 0; i < want.Length; i++) Assert.That(got[i], Is.EqualTo(want[i]).Within(1e-4));
        }
        var zeros = head.ToDictionary(n => n, n => Tensor.Allocate(n, DType.F32, values[n].Shape));
        using (var zero = session.Run(new Dictionary<string, Tensor>(zeros) { ["pixel_values"] = pixels }))
            Assert.That(zero["logits"].Read<float>().ToArray(), Is.All.EqualTo(0f));
        foreach (var t in values.Values.Concat(zeros.Values)) t.Dispose();
    }
}
