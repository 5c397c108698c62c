using Amalgam.Engine.Autodiff;
using Amalgam.Engine.Text;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Text;

/// <summary>
/// Our gradients (float32, ONNX Runtime) of a 4-class classifier on the real all-MiniLM-L6-v2 export
/// against torch autograd in float64 on a BERT forward written from its initializers
/// (tests/fixtures/text/make_minilm_grad_reference.py -> minilm_grad.safetensors), for a batch of
/// 3 padded sentences. Large tensors are checked on 256 sampled entries and their squared norm.
/// The encoder comes from the bootstrap's cache: when it is missing, EncoderFiles.Get fails the
/// test with the message saying how to get it (no silent skip).
/// </summary>
[NonParallelizable]   // the model is 90 MB and each gradient graph holds its activations: one at a time
public sealed class MiniLmGradientTests
{
    /// <summary>Each gradient value: |ours - torch| / (largest |gradient| of that loss over all parameters).</summary>
    private const double GradTolerance = 1e-4;
    private const double NormTolerance = 1e-3, LossTolerance = 1e-5, LogitTolerance = 1e-4;

    private static readonly string[] InputNames = ["input_ids", "attention_mask", "token_type_ids"];

    private SafetensorsFile _reference = null!;
    private OnnxModel _classifier = null!;
    private Dictionary<string, Tensor> _inputs = null!;

    [OneTimeSetUp]
    public void Load()
    {
        var encoder = OnnxModel.Load(EncoderFiles.Get("minilm").Model);
        _reference = SafetensorsFile.Open(Fixtures.File("text/minilm_grad.safetensors"));
        using var weight = _reference.Get(EncoderClassifier.HeadWeight);
        using var bias = _reference.Get(EncoderClassifier.HeadBias);
        _classifier = EncoderClassifier.Create(encoder, Pooling.Mean, (int)bias.ElementCount, weight.Read<float>(), bias.Read<float>());
        _inputs = InputNames.ToDictionary(n => n, n =>
        {
            using var t = _reference.Get("input." + n);
            return t.Clone(n);
        });
    }

    [OneTimeTearDown]
    public void Release()
    {
        foreach (var t in _inputs?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
        _reference?.Dispose();
    }

    /// <summary>Checks the torch forward itself: a wrong role or constant in the script would show here first.</summary>
    [Test]
    public void ForwardLogitsMatchTheFloat64Reference()
    {
        using var session = OnnxSession.FromBytes(_classifier.ToInlineBytes(), new SessionSettings { IntraOpThreads = 1 });
        using var outputs = session.Run(_inputs, [EncoderClassifier.Logits]);
        using var want = _reference.Get("logits");
        var got = outputs[0].Read<float>();
        var w = want.Read<double>();
        Assert.That(got.Length, Is.EqualTo(w.Length));
        double worst = 0;
        for (int i = 0; i < w.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - w[i]));
        TestContext.Out.WriteLine($"logits: max |ours - torch| {worst:E2}");
        Assert.That(worst, Is.LessThanOrEqualTo(LogitTolerance));
    }

    [TestCase("entropy")]
    [TestCase("xent")]
    public void GradientsMatchTorchAutograd(string lossName)
    {
        var loss = lossName == "entropy" ? GradientLoss.Entropy : GradientLoss.CrossEntropy;
        var parameters = GradRunner.SelectParameters(_classifier, null);
        // The reference covers exactly our classifier's parameters: the encoder without its pooler, plus the head.
        var stored = new[] { lossName + ".grad.", "index." }
            .SelectMany(prefix => _reference.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]));
        Assert.That(parameters, Is.EquivalentTo(stored));

        using var labels = loss == GradientLoss.CrossEntropy ? _reference.Get("labels") : null;
        using var result = MeanGradient.Compute(_classifier, _inputs, labels, loss, parameters, batchSize: 3);
        double wantLoss = Scalar($"{lossName}.loss"), scale = Scalar($"{lossName}.max_abs");
        Assert.That(result.Loss, Is.EqualTo(wantLoss).Within(LossTolerance * Math.Abs(wantLoss)), "loss");

        double worst = 0, worstNorm = 0;
        string worstName = "", worstNormName = "";
        int values = 0;
        foreach (string p in parameters)
        {
            var g = result.Gradients[p].Read<float>();
            double error;
            if (_reference.Contains($"{lossName}.grad.{p}"))
            {
                using var want = _reference.Get($"{lossName}.grad.{p}");
                error = MaxError(g, want.Read<float>(), []);
                values += g.Length;
            }
            else
            {
                using var index = _reference.Get($"index.{p}");
                using var want = _reference.Get($"{lossName}.sample.{p}");
                error = MaxError(g, want.Read<float>(), index.Read<long>());
                values += index.Read<long>().Length;
                double norm = 0, wantNorm = Scalar($"{lossName}.sqnorm.{p}");
                foreach (float x in g) norm += (double)x * x;
                double normError = Math.Abs(norm - wantNorm) / wantNorm;
                Assert.That(normError, Is.LessThanOrEqualTo(NormTolerance), $"squared norm of {p}: {norm} vs {wantNorm}");
                if (normError > worstNorm) (worstNorm, worstNormName) = (normError, p);
            }
            Assert.That(error / scale, Is.LessThanOrEqualTo(GradTolerance), p);
            if (error / scale > worst) (worst, worstName) = (error / scale, p);
        }
        TestContext.Out.WriteLine($"{lossName}: loss {result.Loss:R} vs {wantLoss:R}; {values} values of {parameters.Count} parameters, "
            + $"worst {worst:E2} of max |grad| {scale:G4} ({worstName}); worst squared norm {worstNorm:E2} ({worstNormName})");
    }

    /// <summary>max |ours - want| over the stored entries (all, or those at <paramref name="index"/>).</summary>
    private static double MaxError(ReadOnlySpan<float> ours, ReadOnlySpan<float> want, ReadOnlySpan<long> index)
    {
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
            worst = Math.Max(worst, Math.Abs(ours[index.IsEmpty ? i : checked((int)index[i])] - (double)want[i]));
        return worst;
    }

    private double Scalar(string name)
    {
        using var t = _reference.Get(name);
        return t.Read<double>()[0];
    }
}
