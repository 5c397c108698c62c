using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Methods.AdaMerging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.Kernels.Merge;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// tsv_m, iso_c, iso_cts and wudi through the merger (the per-matrix math is checked against float64 in
/// tests/Kernels.Tests/Merge/SingularVectorMergeTests and WudiMergeTests): every 2-D tensor is theta0 + alpha Delta of its task
/// vectors, every other tensor theta0 + alpha times their mean (in float64 here); iso_cts sees ONNX MatMul
/// weights (stored d_in x d_out) in torch layout; and the output of all five new methods does not depend on --threads.
/// </summary>
public sealed class MatrixDeltaMethodTests
{
    private static readonly Spec[] Specs =
    [
        new("a.weight", DType.F32, 7, 13),
        new("a.bias", DType.F32, 13),
        new("b.weight", DType.F32, 20, 6),
        new("c.half", DType.F16, 3, 37),
        new("d.norm", DType.F32, 29),
    ];

    private static float[] Delta(string method, float[][] taus, int m, int n, double f = 0.8)
    {
        var d = new float[m * n];
        switch (method)
        {
            case "tsv_m": SingularVectorMerge.Tsv(taus, m, n, d); break;
            case "iso_c": SingularVectorMerge.IsoC(taus, m, n, d); break;
            case "wudi": WudiMerge.Optimise(taus, m, n, 300, 1e-5f, d); break;
            default: SingularVectorMerge.IsoCts(taus, m, n, f, d); break;
        }
        return d;
    }

    [TestCase("tsv_m")]
    [TestCase("iso_c")]
    [TestCase("iso_cts")]
    [TestCase("wudi")]
    public void MatricesGetDeltaAndOtherTensorsTheMeanTaskVector(string method)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, Specs, 3, seed: 17);
        double alpha = method == "wudi" ? 1.0 : 0.7;   // wudi has no scale (theta0 + tau_m)
        var set = method == "wudi" ? new Dictionary<string, string>() : new Dictionary<string, string> { ["alpha"] = "0.7" };
        Merger.Merge(new MergeRequest { Method = method, Base = b, Models = tasks, Out = dir.File("m.safetensors"), Set = set });
        var merged = TestModels.ReadSafetensors(dir.File("m.safetensors"));
        var theta0 = TestModels.ReadSafetensors(b);
        var thetas = tasks.Select(TestModels.ReadSafetensors).ToArray();
        foreach (var spec in Specs)
        {
            string name = spec.Name;
            var taus = thetas.Select(t => t[name].Zip(theta0[name], (x, y) => (float)((float)x - (float)y)).ToArray()).ToArray();
            double[] want;
            if (spec.Shape.Length == 2)
            {
                var d = Delta(method, taus, (int)spec.Shape[0], (int)spec.Shape[1]);
                want = theta0[name].Select((x, i) => x + alpha * d[i]).ToArray();
            }
            else want = theta0[name].Select((x, i) => x + alpha * taus.Average(t => (double)t[i])).ToArray();
            double tol = spec.DType == DType.F16 ? 2e-3 : 1e-5;
            for (int i = 0; i < want.Length; i++) Assert.That(merged[name][i], Is.EqualTo(want[i]).Within(tol), $"{method} {name}[{i}]");
        }
    }

    [Test]
    public void IsoCtsProjectsOnTheOutputSideOfOnnxMatMulWeights()
    {
        using var dir = Fixtures.NewTempDir();
        string[] tasks = AdaMergingFixture.Tasks;
        Merger.Merge(new MergeRequest { Method = "iso_cts", Base = AdaMergingFixture.Base, Models = tasks, Private = AdaMergingFixture.Private, Out = dir.File("out") });
        var model = OnnxModel.Load(AdaMergingFixture.Base);
        var linear = Amalgam.Engine.LayerInputs.FeatureGraph.Of(MergeProblem.Open(AdaMergingFixture.Base, tasks, AdaMergingFixture.Private))
            .Linears.First(l => !l.StoredTransposed);
        using var w0 = model.ReadInitializer(linear.Weight);
        int rows = (int)w0.Shape[0], cols = (int)w0.Shape[1];   // stored d_in x d_out
        var theta0 = w0.Read<float>().ToArray();
        var taus = tasks.Select(t =>
        {
            using var w = OnnxModel.Load(t).ReadInitializer(linear.Weight);
            var v = w.Read<float>().ToArray();
            return Transpose(v.Select((x, i) => x - theta0[i]).ToArray(), rows, cols);   // torch layout: d_out x d_in
        }).ToArray();
        var d = Transpose(Delta("iso_cts", taus, cols, rows), cols, rows);
        var got = OnnxModel.Load(Path.Combine(dir.File("out"), Path.GetFileName(tasks[0])));
        using var merged = got.ReadInitializer(linear.Weight);
        var m = merged.Read<float>();
        for (int i = 0; i < d.Length; i++) Assert.That(m[i], Is.EqualTo(theta0[i] + d[i]).Within(1e-5), $"{linear.Weight}[{i}]");
    }

    [TestCase("tsv_m")]
    [TestCase("iso_c")]
    [TestCase("iso_cts")]
    [TestCase("wudi")]
    [TestCase("emr")]
    public void OutputDoesNotDependOnThreads(string method)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, Specs, 3, seed: 5);
        var one = Merger.Merge(new MergeRequest { Method = method, Base = b, Models = tasks, Out = dir.File(method == "emr" ? "one" : "one.safetensors"), Threads = 1 });
        var four = Merger.Merge(new MergeRequest { Method = method, Base = b, Models = tasks, Out = dir.File(method == "emr" ? "four" : "four.safetensors"), Threads = 4 });
        Assert.That(four.Outputs, Has.Count.EqualTo(one.Outputs.Count));
        for (int i = 0; i < one.Outputs.Count; i++)
            Assert.That(File.ReadAllBytes(four.Outputs[i]), Is.EqualTo(File.ReadAllBytes(one.Outputs[i])), four.Outputs[i]);
    }

    private static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }
}
