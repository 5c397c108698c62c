using Amalgam.Kernels;
using Amalgam.OnnxIO.Runtime;
using NUnit.Framework;

namespace Amalgam.OnnxIO.Tests.Runtime;

/// <summary>Sessions over models built in the test: metadata, the three ways to run, and errors.</summary>
public sealed unsafe class InferenceSessionTests
{
    private static readonly float[] s_w = [0.5f, -1.25f, 3f, 1e-3f];

    private static Tensor RandomX(int batch, int seed)
    {
        var x = Tensor.Allocate("x", DType.F32, [batch, s_w.Length]);
        var rng = new Random(seed);
        Span<float> v = x.Write<float>();
        for (int i = 0; i < v.Length; i++) v[i] = (float)(rng.NextDouble() * 20 - 10);
        return x;
    }

    /// <summary>y = x + w and z = x * x, each rounded once to float as IEEE add/mul are.</summary>
    private static (float[] Y, float[] Z) Expected(Tensor x)
    {
        ReadOnlySpan<float> v = x.Read<float>();
        var y = new float[v.Length];
        var z = new float[v.Length];
        for (int i = 0; i < v.Length; i++)
        {
            y[i] = (float)((double)v[i] + s_w[i % s_w.Length]);
            z[i] = (float)((double)v[i] * v[i]);
        }
        return (y, z);
    }

    private static Dictionary<string, Tensor> Feed(Tensor x) => new() { ["x"] = x };

    [Test]
    public void MetadataGivesNamesElementTypesAndShapesWithSymbolicDims()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        Assert.That(session.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "x" }));
        Assert.That(session.Outputs.Select(o => o.Name), Is.EqualTo(new[] { "y", "z" }));
        TensorInfo x = session.Inputs[0];
        Assert.That(x.Kind, Is.EqualTo(OnnxValueKind.Tensor));
        Assert.That(x.ElementType, Is.EqualTo(OnnxElementType.Float));
        Assert.That(x.DType, Is.EqualTo(DType.F32));
        Assert.That(x.Shape, Is.EqualTo(new long[] { -1, s_w.Length }));
        Assert.That(x.SymbolicDims, Is.EqualTo(new[] { "batch", "" }));
        Assert.That(x.ToString(), Is.EqualTo("x: float [batch, 4]"));
    }

    [Test]
    public void IntegerInputsMapToOurDtypeAndRun()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.CastToFloat(5));
        Assert.That(session.Inputs[0].ElementType, Is.EqualTo(OnnxElementType.Int64));
        Assert.That(session.Inputs[0].DType, Is.EqualTo(DType.I64));
        using var ids = Tensor.Allocate("ids", DType.I64, [5]);
        long[] values = [-3, 0, 7, 1L << 40, long.MinValue];
        values.CopyTo(ids.Write<long>());
        using var outputs = session.Run(new Dictionary<string, Tensor> { ["ids"] = ids });
        Assert.That(outputs["c"].Read<float>().ToArray(), Is.EqualTo(values.Select(v => (float)v).ToArray()));
    }

    [Test]
    public void RunReturnsOrtAllocatedOutputsAsReadOnlyTensorsMatchingTheFormula()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = RandomX(3, seed: 1);
        using var outputs = session.Run(Feed(x));
        var (y, z) = Expected(x);
        Assert.That(outputs.Select(t => t.Name), Is.EqualTo(new[] { "y", "z" }));
        Assert.That(outputs["y"].Shape.ToArray(), Is.EqualTo(new long[] { 3, 4 }));
        Assert.That(outputs["y"].DType, Is.EqualTo(DType.F32));
        Assert.That(outputs["y"].IsReadOnly, Is.True);
        Assert.That(outputs["y"].Read<float>().ToArray(), Is.EqualTo(y));
        Assert.That(outputs["z"].Read<float>().ToArray(), Is.EqualTo(z));
        Assert.Throws<InvalidOperationException>(() => outputs["y"].Write<float>());
    }

    [Test]
    public void RunReturnsOnlyTheRequestedOutputsInTheRequestedOrder()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = RandomX(2, seed: 2);
        using var outputs = session.Run(Feed(x), ["z", "y"]);
        var (y, z) = Expected(x);
        Assert.That(outputs.Count, Is.EqualTo(2));
        Assert.That(outputs[0].Name, Is.EqualTo("z"));
        Assert.That(outputs[0].Read<float>().ToArray(), Is.EqualTo(z));
        Assert.That(outputs[1].Read<float>().ToArray(), Is.EqualTo(y));
    }

    [Test]
    public void OrtAllocatedOutputOutlivesTheRunResultCollectionAndTheSession()
    {
        Tensor y;
        using var x = RandomX(2, seed: 3);
        using (var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w)))
        {
            var outputs = session.Run(Feed(x), ["y"]);
            y = outputs[0]; // not disposed with the session: the tensor owns its OrtValue
        }
        using (y) Assert.That(y.Read<float>().ToArray(), Is.EqualTo(Expected(x).Y));
    }

    [Test]
    public void PreallocatedOutputsAreWrittenInPlaceAndEqualTheOrtAllocatedRun()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = RandomX(5, seed: 4);
        using var y = Tensor.Allocate("y", DType.F32, [5, 4]);
        using var z = Tensor.Allocate("z", DType.F32, [5, 4]);
        byte* yBuffer = y.Pointer;
        session.Run(Feed(x), new Dictionary<string, Tensor> { ["y"] = y, ["z"] = z });
        using var reference = session.Run(Feed(x));
        Assert.That(y.Pointer == yBuffer, Is.True, "ORT must write into our buffer, not a new one");
        Assert.That(y.Read<float>().ToArray(), Is.EqualTo(reference["y"].Read<float>().ToArray()));
        Assert.That(z.Read<float>().ToArray(), Is.EqualTo(reference["z"].Read<float>().ToArray()));
        Assert.That(y.Read<float>().ToArray(), Is.EqualTo(Expected(x).Y));
    }

    [Test]
    public void BoundRunReusesItsValuesAndSeesInputsChangedInPlace()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        using var x = RandomX(2, seed: 5);
        using var y = Tensor.Allocate("y", DType.F32, [2, 4]);
        using var bound = session.Bind(Feed(x), new Dictionary<string, Tensor> { ["y"] = y });
        for (int step = 0; step < 3; step++)
        {
            // Change the input where it lives; the bound OrtValue views the same memory.
            Span<float> v = x.Write<float>();
            for (int i = 0; i < v.Length; i++) v[i] = step * 10 + i;
            bound.Run();
            Assert.That(y.Read<float>().ToArray(), Is.EqualTo(Expected(x).Y), $"step {step}");
        }
    }

    [Test]
    public void BoundRunRefusesToRunAfterABoundTensorWasDisposed()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w));
        var x = RandomX(1, seed: 6);
        using var y = Tensor.Allocate("y", DType.F32, [1, 4]);
        using var bound = session.Bind(Feed(x), new Dictionary<string, Tensor> { ["y"] = y });
        bound.Run();
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => bound.Run());
    }

    [Test]
    public void SessionFromAFileEqualsSessionFromBytes()
    {
        byte[] model = TinyOnnxModels.AddMul(s_w);
        string path = Path.Combine(Path.GetTempPath(), $"amalgam-ort-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        try
        {
            using var fromFile = OnnxSession.FromFile(path);
            using var fromBytes = OnnxSession.FromBytes(model);
            using var x = RandomX(2, seed: 7);
            using var a = fromFile.Run(Feed(x));
            using var b = fromBytes.Run(Feed(x));
            Assert.That(fromFile.Source, Is.EqualTo(path));
            Assert.That(a["y"].Read<float>().ToArray(), Is.EqualTo(b["y"].Read<float>().ToArray()));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void EveryThreadAndOptimisationSettingGivesTheSameOutputs()
    {
        using var x = RandomX(4, seed: 8);
        var (y, z) = Expected(x);
        foreach (var level in Enum.GetValues<GraphOptimization>())
        foreach (var (intra, inter, parallel) in new[] { (1, 1, false), (2, 1, false), (0, 0, false), (1, 2, true) })
        foreach (var memory in Enum.GetValues<CpuMemory>())
        {
            var options = new SessionSettings { IntraOpThreads = intra, InterOpThreads = inter, ParallelExecution = parallel, OptimizationLevel = level, Memory = memory };
            using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w), options);
            using var outputs = session.Run(Feed(x));
            Assert.That(outputs["y"].Read<float>().ToArray(), Is.EqualTo(y), options.ToString());
            Assert.That(outputs["z"].Read<float>().ToArray(), Is.EqualTo(z), options.ToString());
        }
    }

    [Test]
    public void ConcurrentRunsOnOneSessionGiveTheSequentialResults()
    {
        using var session = OnnxSession.FromBytes(TinyOnnxModels.AddMul(s_w), new SessionSettings { IntraOpThreads = 1 });
        var xs = Enumerable.Range(0, 8).Select(i => RandomX(3, seed: 100 + i)).ToArray();
        try
        {
            var expected = xs.Select(Expected).ToArray();
            var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
            Parallel.For(0, xs.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
            {
                for (int rep = 0; rep < 25; rep++)
                {
                    using var outputs = session.Run(Feed(xs[i]));
                    if (!outputs["y"].Read<float>().SequenceEqual(expected[i].Y)) failures.Add($"input {i} rep {rep}");
                }
            });
            Assert.That(failures, Is.Empty);
        }
        finally
        {
            foreach (Tensor x in xs) x.Dispose();
        }
    }
}
