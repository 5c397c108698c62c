using NUnit.Framework;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

public class GraphEditTests
{
    [Test]
    public void AddOutputsAppendsIntermediateValuesOnce()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        var layerNorm = model.Graph.Node.First(n => n.OpType == "LayerNormalization");
        string value = layerNorm.Output[0];
        int before = model.Graph.Output.Count;
        model.AddOutputs([value, value, "logits"]);
        Assert.That(model.Graph.Output.Select(o => o.Name), Is.EqualTo(new[] { "logits", value }));
        Assert.That(model.Graph.Output.Count, Is.EqualTo(before + 1));
        // The original outputs and everything else are untouched.
        var original = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        var diff = OnnxModelComparer.Compare(original, model);
        Assert.That(diff, Has.Count.EqualTo(1).And.Some.Contain("graph outputs [logits] vs [logits, " + value + "]"));
    }

    [Test]
    public void AddOutputsOfAnUnknownValueIsBadInput()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        Assert.That(() => model.AddOutputs(["no_such_value"]), Throws.TypeOf<BadInputException>().With.Message.Contain("'no_such_value'"));
    }

    [Test]
    public void PromoteTurnsInitializersIntoTypedInputs()
    {
        var model = OnnxModel.Load(Fixtures.Onnx("roberta_tiny_op17"));
        model.PromoteInitializersToInputs(["word_embeddings.weight"]);
        model.PromoteInitializersToInputs(["classifier_out.bias"], keepValuesAsDefaults: true);

        Assert.That(model.HasInitializer("word_embeddings.weight"), Is.False);
        Assert.That(model.HasInitializer("classifier_out.bias"), Is.True);
        var inputs = model.Graph.Input.ToDictionary(i => i.Name);
        Assert.That(inputs.Keys, Is.EquivalentTo(new[] { "input_ids", "attention_mask", "word_embeddings.weight", "classifier_out.bias" }));
        var t = inputs["word_embeddings.weight"].Type.TensorType;
        Assert.That(t.ElemType, Is.EqualTo((int)TensorProto.Types.DataType.Float));
        Assert.That(t.Shape.Dim.Select(d => d.DimValue), Is.EqualTo(new long[] { 100, 32 }));
        Assert.That(() => model.PromoteInitializersToInputs(["absent"]), Throws.TypeOf<BadInputException>());
    }
}
