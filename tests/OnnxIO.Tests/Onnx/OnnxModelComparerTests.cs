using NUnit.Framework;
using Amalgam.OnnxIO.Onnx;
using Onnx;

namespace Amalgam.OnnxIO.Tests.Onnx;

public class OnnxModelComparerTests
{
    private static IEnumerable<string> AllModels => Fixtures.Models;

    private static ModelProto Load(string name) => OnnxModel.Load(Fixtures.Onnx(name)).Proto;

    [TestCaseSource(nameof(AllModels))]
    public void AModelMatchesItselfAndAnEditedCopyOfItsWeights(string name)
    {
        var a = Load(name);
        var b = a.Clone();
        foreach (var t in b.Graph.Initializer) t.RawData = Google.Protobuf.ByteString.CopyFrom(new byte[t.RawData.Length]);
        Assert.That(OnnxModelComparer.Compare(a, a.Clone()), Is.Empty);
        Assert.That(OnnxModelComparer.Compare(a, b), Is.Empty, "initializer values are not structure");
    }

    [Test]
    public void ChangedAttributeIsNamed()
    {
        var a = Load("vit_tiny_op17");
        var b = a.Clone();
        var conv = b.Graph.Node.First(n => n.OpType == "Conv");
        conv.Attribute.Single(x => x.Name == "strides").Ints[0] = 5;
        var diff = OnnxModelComparer.Compare(a, b);
        Assert.That(diff, Has.Count.EqualTo(1));
        Assert.That(diff[0], Does.Contain($"'{conv.Name}'").And.Contain("'strides'").And.Contain("[7, 7] vs [5, 7]"));
    }

    [Test]
    public void ChangedConstantTensorIsNamed()
    {
        var a = Load("roberta_tiny_op14");
        var b = a.Clone();
        var constant = b.Graph.Node.First(n => n.OpType == "Constant" && n.Attribute[0].T.RawData.Length > 0);
        var bytes = constant.Attribute[0].T.RawData.ToByteArray();
        bytes[0] ^= 1;
        constant.Attribute[0].T.RawData = Google.Protobuf.ByteString.CopyFrom(bytes);
        var diff = OnnxModelComparer.Compare(a, b);
        Assert.That(diff, Has.Count.EqualTo(1));
        Assert.That(diff[0], Does.Contain(constant.Name).And.Contain("'value'").And.Contain("tensor values differ"));
    }

    [Test]
    public void RenamedNodeInputIsNamed()
    {
        var a = Load("clip_tiny_op14");
        var b = a.Clone();
        int index = b.Graph.Node.ToList().FindIndex(n => n.OpType == "MatMul");
        string old = b.Graph.Node[index].Input[1];
        b.Graph.Node[index].Input[1] = "renamed_weight";
        var diff = OnnxModelComparer.Compare(a, b);
        Assert.That(diff, Has.Count.EqualTo(1));
        Assert.That(diff[0], Does.Contain($"node {index} ").And.Contain($"input 1 '{old}' vs 'renamed_weight'"));
    }

    [Test]
    public void DifferentInitializerShapeTypeOrNameIsNamed()
    {
        var a = Load("roberta_tiny_op17");
        var b = a.Clone();
        var emb = b.Graph.Initializer.Single(t => t.Name == "word_embeddings.weight");
        emb.Dims[0] = 101;
        b.Graph.Initializer.Single(t => t.Name == "classifier_out.bias").DataType = (int)TensorProto.Types.DataType.Float16;
        b.Graph.Initializer.Single(t => t.Name == "classifier_out.weight").Name = "head.weight";
        var diff = OnnxModelComparer.Compare(a, b);
        Assert.That(diff, Is.EquivalentTo(new[]
        {
            "initializer 'word_embeddings.weight' shape [100, 32] vs [101, 32]",
            "initializer 'classifier_out.weight' only in the first model",
            "initializer 'classifier_out.bias' element type FLOAT vs FLOAT16",
            "initializer 'head.weight' only in the second model",
        }));
    }

    [Test]
    public void Opset14And17ExportsDifferAndTheListIsCapped()
    {
        var capped = OnnxModelComparer.Compare(Load("vit_tiny_op14"), Load("vit_tiny_op17"), maxDifferences: 5);
        Assert.That(capped, Has.Count.EqualTo(5));
        Assert.That(capped[0], Is.EqualTo("opset imports [ai.onnx 14] vs [ai.onnx 17]"));
        // LayerNormalization is one node at 17 and eight at 14.
        var all = OnnxModelComparer.Compare(Load("vit_tiny_op14"), Load("vit_tiny_op17"), maxDifferences: 10_000);
        Assert.That(all, Has.Some.Match(@"^\d+ vs \d+ nodes$"));
        Assert.That(all, Has.Some.Contain("op ReduceMean vs LayerNormalization"));
    }

    [Test]
    public void DifferentGraphInputTypeIsNamed()
    {
        var a = Load("roberta_tiny_op17");
        var b = a.Clone();
        b.Graph.Input[1].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Int32;
        var diff = OnnxModelComparer.Compare(a, b);
        Assert.That(diff, Is.EqualTo(new[] { "graph input 'attention_mask' type INT64 [batch, seq] vs INT32 [batch, seq]" }));
    }
}

public class OnnxModelComparerPrivateTests
{
    private static ModelProto Load(string name) => OnnxModel.Load(Fixtures.Onnx(name)).Proto;

    private static bool IsHead(string name) => name.StartsWith("classifier_out.", StringComparison.Ordinal);

    /// <summary>roberta's classifier with 5 classes instead of 3: its weight, bias and the logits' class dimension change.</summary>
    private static ModelProto WithFiveClasses(ModelProto a)
    {
        var b = a.Clone();
        b.Graph.Initializer.Single(t => t.Name == "classifier_out.weight").Dims[0] = 5;
        b.Graph.Initializer.Single(t => t.Name == "classifier_out.bias").Dims[0] = 5;
        b.Graph.Output.Single(o => o.Name == "logits").Type.TensorType.Shape.Dim[1].DimValue = 5;
        return b;
    }

    [Test]
    public void AHeadOfAnotherClassCountDiffersOnlyInWhatIsPrivate()
    {
        var a = Load("roberta_tiny_op17");
        var b = WithFiveClasses(a);
        Assert.That(OnnxModelComparer.Compare(a, b, isPrivate: IsHead), Is.Empty);
        // Without the private set the same edits are three differences.
        Assert.That(OnnxModelComparer.Compare(a, b), Is.EquivalentTo(new[]
        {
            "graph output 'logits' type FLOAT [batch, 3] vs FLOAT [batch, 5]",
            "initializer 'classifier_out.weight' shape [3, 32] vs [5, 32]",
            "initializer 'classifier_out.bias' shape [3] vs [5]",
        }));
    }

    [Test]
    public void APrivateInitializerMayBeAbsentFromOneModelASharedOneMayNot()
    {
        var a = Load("roberta_tiny_op17");
        var b = a.Clone();
        var extra = b.Graph.Initializer.Single(t => t.Name == "classifier_out.bias").Clone();
        extra.Name = "classifier_out.temperature";
        b.Graph.Initializer.Add(extra);
        var shared = extra.Clone();
        shared.Name = "pooler.extra";
        b.Graph.Initializer.Add(shared);
        Assert.That(OnnxModelComparer.Compare(a, b, isPrivate: IsHead), Is.EqualTo(new[] { "initializer 'pooler.extra' only in the second model" }));
        Assert.That(OnnxModelComparer.Compare(b, a, isPrivate: IsHead), Is.EqualTo(new[] { "initializer 'pooler.extra' only in the first model" }));
    }

    [Test]
    public void DifferencesOutsideThePrivateParametersAreStillNamed()
    {
        var a = Load("roberta_tiny_op17");
        var b = WithFiveClasses(a);
        b.Graph.Initializer.Single(t => t.Name == "word_embeddings.weight").Dims[0] = 101;           // shared
        b.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimParam = "tokens";                          // not computed from the head
        b.Graph.Output.Single(o => o.Name == "logits").Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Double;   // a type, not a dimension
        var diff = OnnxModelComparer.Compare(a, b, isPrivate: IsHead);
        Assert.That(diff, Is.EquivalentTo(new[]
        {
            "graph input 'input_ids' type INT64 [batch, seq] vs INT64 [batch, tokens]",
            "graph output 'logits' type FLOAT [batch, 3] vs DOUBLE [batch, 5]",
            "initializer 'word_embeddings.weight' shape [100, 32] vs [101, 32]",
        }));
    }
}
