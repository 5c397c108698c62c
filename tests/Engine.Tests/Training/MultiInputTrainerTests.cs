using Amalgam.Engine.Tests.Support;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Google.Protobuf;
using Onnx;

namespace Amalgam.Engine.Tests.Training;

/// <summary>
/// The trainer on a model with two inputs (a text encoder's situation): x1 [N, 2] and x2 [N, 3]
/// concatenated and fed to one linear layer must train to exactly the weights of the same layer
/// fed the concatenation [N, 5] as its single input: same data, seed and batches.
/// </summary>
public sealed class MultiInputTrainerTests
{
    private const int Classes = 3;

    private static OnnxModel Model(bool twoInputs, float[] w, float[] b)
    {
        var g = new GraphProto { Name = "linear" };
        if (twoInputs)
        {
            g.Input.Add(TanhMlp.Value("x1", ["N", "2"]));
            g.Input.Add(TanhMlp.Value("x2", ["N", "3"]));
            var concat = TanhMlp.Node("Concat", ["x1", "x2"], "x");
            concat.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
            g.Node.Add(concat);
        }
        else g.Input.Add(TanhMlp.Value("x", ["N", "5"]));
        g.Output.Add(TanhMlp.Value("logits", ["N", Classes.ToString()]));
        foreach (var (name, values, dims) in new[] { ("w", w, new long[] { 5, Classes }), ("b", b, new long[] { Classes }) })
        {
            var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(values.SelectMany(BitConverter.GetBytes).ToArray()) };
            t.Dims.AddRange(dims);
            g.Initializer.Add(t);
        }
        g.Node.Add(TanhMlp.Node("Gemm", ["x", "w", "b"], "logits"));
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return new OnnxModel(m, Path.GetTempPath(), twoInputs ? "two-input" : "one-input");
    }

    [Test]
    public void TwoInputsTrainToTheWeightsOfTheirConcatenation()
    {
        var rng = new Random(4);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] w = R(5 * Classes), b = R(Classes);
        const int n = 40;
        var x = R(n * 5);
        using var all = Tensor.Allocate("x", DType.F32, [n, 5]);
        using var x1 = Tensor.Allocate("x1", DType.F32, [n, 2]);
        using var x2 = Tensor.Allocate("x2", DType.F32, [n, 3]);
        using var labels = Tensor.Allocate("labels", DType.I64, [n]);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < 5; j++) all.Write<float>()[i * 5 + j] = x[i * 5 + j];
            for (int j = 0; j < 2; j++) x1.Write<float>()[i * 2 + j] = x[i * 5 + j];
            for (int j = 0; j < 3; j++) x2.Write<float>()[i * 3 + j] = x[i * 5 + 2 + j];
            labels.Write<long>()[i] = i % Classes;
        }
        var one = Model(false, w, b);
        var two = Model(true, w, b);
        var r1 = Trainer.Train(new TrainRequest { Model = one, Inputs = all, Labels = labels, Epochs = 3, BatchSize = 8, Seed = 9, LearningRate = 0.05f });
        var r2 = Trainer.Train(new TrainRequest
        {
            Model = two, InputSet = new Dictionary<string, Tensor> { ["x1"] = x1, ["x2"] = x2 }, Labels = labels, Epochs = 3, BatchSize = 8, Seed = 9, LearningRate = 0.05f,
            TestInputSet = new Dictionary<string, Tensor> { ["x1"] = x1, ["x2"] = x2 }, TestLabels = labels,
        });
        Assert.That(r2.EpochLosses, Is.EqualTo(r1.EpochLosses));
        Assert.That(r2.EpochLosses[^1], Is.LessThan(r2.EpochLosses[0]), "it trains");
        Assert.That(r2.TestAccuracies, Has.Count.EqualTo(3));
        foreach (string p in new[] { "w", "b" })
        {
            using var a = one.ReadInitializer(p);
            using var c = two.ReadInitializer(p);
            Assert.That(c.Read<float>().ToArray(), Is.EqualTo(a.Read<float>().ToArray()), p);
        }
        // A single tensor cannot feed two inputs; a missing input is named.
        Assert.That(() => Trainer.Train(new TrainRequest { Model = Model(true, w, b), Inputs = all, Labels = labels }),
            Throws.InstanceOf<BadInputException>().With.Message.Contains("several inputs"));
        Assert.That(() => Trainer.Train(new TrainRequest { Model = Model(true, w, b), InputSet = new Dictionary<string, Tensor> { ["x1"] = x1 }, Labels = labels }),
            Throws.InstanceOf<BadInputException>().With.Message.Contains("'x2'"));
    }
}
