using Amalgam.Engine.Autodiff;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Autodiff;

/// <summary>
/// Gradients of whole exported models (ViT, CLIP-style tower with head, RoBERTa-style encoder with
/// classifier, at opsets 14 and 17) computed by our backward graph in ONNX Runtime (float32) against
/// torch autograd in float64 for the same inputs, labels and loss (make_fixtures.py writes them to
/// &lt;model&gt;.grad.safetensors, mapped to the ONNX initializer names).
/// </summary>
public sealed class FixtureGradientTests
{
    /// <summary>Per tensor: max |ours - torch| / max |torch|.</summary>
    private const double Tolerance = 1e-4;

    private static IEnumerable<TestCaseData> Cases() =>
        from m in Fixtures.Models
        from loss in new[] { "entropy", "xent" }
        select new TestCaseData(m, loss).SetName($"{m} {loss}");

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchTorchAutograd(string name, string lossName)
    {
        var model = OnnxModel.Load(Fixtures.Onnx(name));
        using var io = SafetensorsFile.Open(Fixtures.Io(name));
        using var reference = SafetensorsFile.Open(Fixtures.File(name + ".grad.safetensors"));
        var inputs = io.Names.Where(n => n.StartsWith("input.", StringComparison.Ordinal)).ToDictionary(n => n["input.".Length..], io.Get);
        try
        {
            var parameters = model.ListInitializers().Where(i => i.DType == DType.F32).Select(i => i.Name).ToList();
            var shapes = inputs.ToDictionary(kv => kv.Key, kv => kv.Value.ShapeArray());
            var loss = lossName == "entropy" ? GradientLoss.Entropy : GradientLoss.CrossEntropy;
            using var session = GradientSession.Create(model, new GradientRequest(parameters, shapes, loss), new SessionSettings { IntraOpThreads = 1 });
            foreach (var (n, t) in inputs) t.Bytes.CopyTo(AsWritable(session.Inputs[n]));
            if (loss == GradientLoss.CrossEntropy)
            {
                using var labels = reference.Get("labels");
                labels.Bytes.CopyTo(AsWritable(session.Inputs["labels"]));
            }

            double got = session.Step();
            using (var refLoss = reference.Get($"{lossName}.loss"))
                Assert.That(got, Is.EqualTo(refLoss.Read<double>()[0]).Within(1e-5 * Math.Max(1, Math.Abs(got))), "loss");

            var errors = new List<(string Name, double MaxDiff, double MaxRef)>();
            foreach (var p in parameters)
            {
                string key = $"{lossName}.grad.{p}";
                Assert.That(reference.Contains(key), key);
                using var want = reference.Get(key);
                var g = session.Gradients[p].Read<float>();
                var w = want.Read<float>();
                double maxRef = 0, maxDiff = 0;
                for (int i = 0; i < w.Length; i++)
                {
                    maxRef = Math.Max(maxRef, Math.Abs(w[i]));
                    maxDiff = Math.Max(maxDiff, Math.Abs(g[i] - w[i]));
                }
                errors.Add((p, maxDiff, maxRef));
            }
            // Some gradients are exactly zero in exact arithmetic (an attention key bias shifts every score
            // of a row equally, and softmax ignores that), so float32 leaves rounding noise there: such
            // tensors are measured against 1% of the largest gradient in the model.
            double floor = 0.01 * errors.Max(e => e.MaxRef);
            TestContext.Out.WriteLine($"{name} {lossName}: worst relative error {errors.Max(e => e.MaxDiff / Math.Max(e.MaxRef, floor)):E2} over {errors.Count} parameters");
            int compared = 0;
            foreach (var (p, maxDiff, maxRef) in errors)
            {
                Assert.That(maxDiff / Math.Max(maxRef, floor), Is.LessThanOrEqualTo(Tolerance), p);
                compared++;
            }
            Assert.That(compared, Is.EqualTo(parameters.Count));
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }

    private static unsafe Span<byte> AsWritable(Tensor t) => new(t.Pointer, checked((int)t.ByteLength));
}
