using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Runtime;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Merging;

/// <summary>
/// A merged ONNX model is a working model: ONNX Runtime runs it, and its outputs equal those of the
/// same graph carrying the float64 reference weights (rounded to f32) built here independently.
/// </summary>
public class MergedOnnxRunsTests
{
    [TestCase("clip_tiny_op17", null)]
    [TestCase("roberta_tiny_op14", @"^classifier_")]
    public void MergedModelRunsAndMatchesTheReferenceWeights(string fixture, string? privateHeads)
    {
        using var dir = Fixtures.NewTempDir();
        string baseOnnx = Fixtures.Onnx(fixture);
        string[] tasks = TestModels.PerturbedOnnxCopies(baseOnnx, dir.Path, 3, seed: 31);
        string output = privateHeads is null ? dir.File("merged.onnx") : dir.File("out");
        Merger.Merge(new MergeRequest
        {
            Method = "task_arithmetic", Base = baseOnnx, Models = tasks, Out = output, Private = privateHeads,
            Set = new Dictionary<string, string> { ["lambda"] = "0.4" },
        });

        var theta0 = TestModels.ReadOnnx(baseOnnx);
        var thetas = tasks.Select(TestModels.ReadOnnx).ToList();
        for (int k = 0; k < (privateHeads is null ? 1 : tasks.Length); k++)
        {
            string merged = privateHeads is null ? output : Path.Combine(output, $"task{k}.onnx");
            // Reference: task k's model with every shared weight replaced by the f64 formula.
            var reference = OnnxModel.Load(tasks[k]);
            foreach (var (name, values) in theta0)
            {
                if (privateHeads is not null && System.Text.RegularExpressions.Regex.IsMatch(name, privateHeads)) continue;
                double[] want = TestModels.TaskArithmetic(values, thetas.Select(t => t[name]).ToList(), 0.4, [1, 1, 1]);
                using var t = reference.ReadInitializer(name);
                using var replaced = t.Clone();
                Span<float> w = replaced.Write<float>();
                for (int i = 0; i < w.Length; i++) w[i] = (float)want[i];
                reference.ReplaceInitializer(name, replaced);
            }
            float[] got = Run(File.ReadAllBytes(merged), fixture);
            float[] expected = Run(reference.ToInlineBytes(), fixture);
            Assert.That(got.All(float.IsFinite), Is.True);
            for (int i = 0; i < got.Length; i++)
                Assert.That(got[i], Is.EqualTo(expected[i]).Within(1e-4), $"{merged}: logit {i}");
        }
    }

    /// <summary>Logits of the fixture's stored inputs.</summary>
    private static float[] Run(byte[] model, string fixture)
    {
        using var io = SafetensorsFile.Open(Fixtures.Io(fixture));
        var inputs = io.Names.Where(n => n.StartsWith("input.", StringComparison.Ordinal)).ToDictionary(n => n["input.".Length..], io.Get);
        try
        {
            using var session = OnnxSession.FromBytes(model, new SessionSettings { IntraOpThreads = 1 });
            using var outputs = session.Run(inputs);
            return outputs["logits"].Read<float>().ToArray();
        }
        finally
        {
            foreach (var t in inputs.Values) t.Dispose();
        }
    }
}
