using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Merging;

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

    /// <summary>MLPs (torch's Linear layout) with heads of 2, 10 and 4 classes over one random tower; the base's head has <paramref name="baseClasses"/> (null: none).</summary>
    private static (string Base, string[] Tasks) OwnHeads(Fixtures.TempDir dir, int? baseClasses)
    {
        var rng = new Random(1);
        var tower = HeadedMlp.RandomShared(rng);
        HeadedMlp Model(int? c) => new(c, tower, c is int n ? HeadedMlp.Random(rng, n * HeadedMlp.Hidden, 1) : null, c is int m ? HeadedMlp.Random(rng, m, 1) : null);
        Model(baseClasses).Save(dir.File("base.onnx"));
        var tasks = new[] { 2, 10, 4 }.Select((c, k) => { string f = dir.File($"t{k}.onnx"); Model(c).Save(f); return f; }).ToArray();
        return (dir.File("base.onnx"), tasks);
    }

    [TestCase(3)]
    [TestCase(null)]
    public void PrivateHeadsMayHaveAnyClassCountAndBeMissingFromTheBase(int? baseClasses)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = OwnHeads(dir, baseClasses);
        using var p = MergeProblem.Open(b, tasks, @"^head\.");
        Assert.That(p.Shared.Select(t => t.Name), Is.EqualTo(HeadedMlp.SharedNames));
        Assert.That(p.Private.Select(t => t.Single(i => i.Name == "head.weight").Shape), Is.EqualTo(new[] { new long[] { 2, 6 }, [10, 6], [4, 6] }));
        Assert.That(p.BasePrivate.Count, Is.EqualTo(baseClasses is null ? 0 : 2));
        // Without --private the heads are differences like any other.
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(b, tasks))!;
        Assert.That(e.Message, Does.Contain("t0.onnx").And.Contain("head.weight"));
    }

    [TestCase(3)]
    [TestCase(null)]
    public void AStructuralDifferenceOutsideThePrivateParametersIsStillRefusedNamingIt(int? baseClasses)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = OwnHeads(dir, baseClasses);
        var m = OnnxModel.Load(tasks[2]);
        m.Graph.Node.First(n => n.OpType == "Tanh").OpType = "Sigmoid";   // in the shared tower
        m.Save(tasks[2], OnnxSaveOptions.Inline);
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(b, tasks, @"^head\."))!;
        Assert.That(e.Message, Does.Contain("t2.onnx").And.Contain("outside the --private parameters").And.Contain("op Tanh vs Sigmoid"));
        Assert.That(e.Message, Does.Contain(baseClasses is null ? "the first task model" : "the base"));
        Assert.That(e.Message, Does.Not.Contain("head.").And.Not.Contain("\n"));

        // A graph input's shape is not computed from a head: it must agree.
        var (b2, tasks2) = OwnHeads(dir, baseClasses);
        var m2 = OnnxModel.Load(tasks2[1]);
        m2.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam = "batch";
        m2.Save(tasks2[1], OnnxSaveOptions.Inline);
        var e2 = Assert.Throws<BadInputException>(() => MergeProblem.Open(b2, tasks2, @"^head\."))!;
        Assert.That(e2.Message, Does.Contain("t1.onnx").And.Contain("graph input 'x' type FLOAT [N, 4] vs FLOAT [batch, 4]"));
    }

    [Test]
    public void SafetensorsHeadsMayDifferButASharedShapeMayNot()
    {
        using var dir = Fixtures.NewTempDir();
        Spec[] Model(int classes, long hidden) => [new("enc.weight", DType.F32, hidden, 3), new("head.weight", DType.F32, classes, hidden), new("head.bias", DType.F32, classes)];
        TestModels.Write(dir.File("base.safetensors"), [new("enc.weight", DType.F32, 5, 3)], [new float[15]]);
        foreach (var (name, classes, hidden) in new[] { ("a", 2, 5L), ("b", 10, 5L), ("c", 4, 6L) })
        {
            var specs = Model(classes, hidden);
            TestModels.Write(dir.File(name + ".safetensors"), specs, specs.Select(s => new float[s.Count]).ToArray());
        }
        string[] tasks = [dir.File("a.safetensors"), dir.File("b.safetensors"), dir.File("c.safetensors")];
        using (var ok = MergeProblem.Open(dir.File("base.safetensors"), tasks[..2], @"^head\."))
            Assert.That(ok.Private.Select(t => t.Count), Is.EqualTo(new[] { 2, 2 }));
        var e = Assert.Throws<BadInputException>(() => MergeProblem.Open(dir.File("base.safetensors"), tasks, @"^head\."))!;
        Assert.That(e.Message, Does.Contain("c.safetensors").And.Contain("1 difference").And.Contain("'enc.weight' has shape [6, 3], base [5, 3]"));
        Assert.That(e.Message, Does.Not.Contain("head."));
        var none = Assert.Throws<BadInputException>(() => MergeProblem.Open(dir.File("base.safetensors"), tasks[..2], @"^heads\."))!;
        Assert.That(none.Message, Does.Contain("--private '^heads\\.' matches no tensor"));
    }
}
