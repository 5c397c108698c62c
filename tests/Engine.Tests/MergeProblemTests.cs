using Amalgam.Engine.Problem;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests;

public class MergeProblemTests
{
    private static Tensor Ints(string name, params long[] values)
    {
        var t = Tensor.Allocate(name, DType.I64, [values.Length]);
        values.CopyTo(t.Write<long>());
        return t;
    }

    [Test]
    public void SplitsSharedPrivateAndConstantsAndSortsSharedByName()
    {
        using var dir = Fixtures.NewTempDir();
        using var ids = Ints("position_ids", 0, 1, 2);
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 1, extra: [ids]);
        using var p = MergeProblem.Open(b, tasks, @"^c\.");
        Assert.That(p.K, Is.EqualTo(2));
        Assert.That(p.TaskNames, Is.EqualTo(new[] { "task0", "task1" }));
        var expectedShared = TestModels.Mixed.Select(s => s.Name).Where(n => !n.StartsWith("c.")).OrderBy(n => n, StringComparer.Ordinal);
        Assert.That(p.Shared.Select(t => t.Name), Is.EqualTo(expectedShared));
        Assert.That(p.Private.Select(t => t.Select(i => i.Name)), Is.EqualTo(new[] { new[] { "c.half" }, new[] { "c.half" } }));
        Assert.That(p.BasePrivate.Select(t => t.Name), Is.EqualTo(new[] { "c.half" }));
        Assert.That(p.Constants.Select(t => t.Name), Is.EqualTo(new[] { "position_ids" }));
    }

    [Test]
    public void TaskNamesAreFileNamesMadeUnique()
    {
        Assert.That(MergeProblem.TaskNamesOf(["/x/a/model.onnx", "/x/b/model.onnx", "/x/c/other.safetensors", "/x/d/model.onnx"]),
            Is.EqualTo(new[] { "model", "model-2", "other", "model-3" }));
    }

    [Test]
    public void MismatchedNamesShapesAndDtypesAreListedNamingTheFile()
    {
        using var dir = Fixtures.NewTempDir();
        Spec[] good = [new("w", DType.F32, 4, 3), new("b", DType.F32, 3), new("h", DType.F16, 2)];
        Spec[] bad = [new("w", DType.F32, 3, 4), new("c", DType.F32, 3), new("h", DType.BF16, 2)];
        TestModels.Write(dir.File("base.safetensors"), good, good.Select(s => new float[s.Count]).ToArray());
        TestModels.Write(dir.File("odd.safetensors"), bad, bad.Select(s => new float[s.Count]).ToArray());
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(dir.File("base.safetensors"), [dir.File("odd.safetensors")]))!;
        Assert.That(e.Message, Does.Contain("odd.safetensors").And.Contain("4 differences"));
        Assert.That(e.Message, Does.Contain("'w' has shape [3, 4], base [4, 3]"));
        Assert.That(e.Message, Does.Contain("'b' missing").And.Contain("'c' not in the base").And.Contain("'h' is bf16, base f16"));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void AtMostTenDifferencesAreListed()
    {
        using var dir = Fixtures.NewTempDir();
        var a = Enumerable.Range(0, 15).Select(i => new Spec($"t{i:D2}", DType.F32, 2)).ToArray();
        var b = Enumerable.Range(0, 15).Select(i => new Spec($"t{i:D2}", DType.F32, 3)).ToArray();
        TestModels.Write(dir.File("base.safetensors"), a, a.Select(s => new float[s.Count]).ToArray());
        TestModels.Write(dir.File("x.safetensors"), b, b.Select(s => new float[s.Count]).ToArray());
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(dir.File("base.safetensors"), [dir.File("x.safetensors")]))!;
        Assert.That(e.Message, Does.Contain("15 differences").And.Contain("'t09'").And.Not.Contain("'t10'").And.EndWith("; ..."));
    }

    [Test]
    public void DifferentOnnxGraphsAreRejectedWithTheDifference()
    {
        // Same initializers, one operator changed: only the structural comparison can tell.
        using var dir = Fixtures.NewTempDir();
        var m = OnnxModel.Load(Fixtures.Onnx("vit_tiny_op17"));
        m.Graph.Node.First(n => n.OpType == "Erf").OpType = "Tanh";
        m.Save(dir.File("edited.onnx"), OnnxSaveOptions.Inline);
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(Fixtures.Onnx("vit_tiny_op17"), [dir.File("edited.onnx")]))!;
        Assert.That(e.Message, Does.Contain("edited.onnx").And.Contain("graph structure").And.Contain("Tanh"));
        // Different opsets also differ in initializer names (torch numbering): named as such.
        var e2 = Assert.Throws<BadInputException>(() => MergeProblem.Open(Fixtures.Onnx("vit_tiny_op17"), [Fixtures.Onnx("vit_tiny_op14")]))!;
        Assert.That(e2.Message, Does.Contain("vit_tiny_op14.onnx").And.Contain("'onnx::MatMul_317' missing"));
    }

    [Test]
    public void MixedFormatsAreRejected()
    {
        using var dir = Fixtures.NewTempDir();
        var (b, _) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 1, seed: 2);
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(b, [Fixtures.Onnx("vit_tiny_op17")]))!;
        Assert.That(e.Message, Does.Contain("vit_tiny_op17.onnx").And.Contain("same format"));
    }

    [TestCase("^nothing_matches$", "matches no tensor")]
    [TestCase(".", "matches every float tensor")]
    [TestCase("([", "not a valid regex")]
    public void UselessPrivateRegexIsAnError(string regex, string message)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, 2, seed: 3);
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(b, tasks, regex))!;
        Assert.That(e.Message, Does.Contain("--private").And.Contain(message));
    }

    [Test]
    public void NonFloatTensorsMustBeIdentical()
    {
        using var dir = Fixtures.NewTempDir();
        Spec[] specs = [new("w", DType.F32, 3)];
        using (var ids = Ints("ids", 1, 2, 3)) TestModels.Write(dir.File("base.safetensors"), specs, [new float[3]], [ids]);
        using (var ids = Ints("ids", 1, 2, 4)) TestModels.Write(dir.File("t.safetensors"), specs, [new float[3]], [ids]);
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(dir.File("base.safetensors"), [dir.File("t.safetensors")]))!;
        Assert.That(e.Message, Does.Contain("'ids'").And.Contain("t.safetensors"));
    }
}
