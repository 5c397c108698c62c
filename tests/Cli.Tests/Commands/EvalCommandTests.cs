using System.Globalization;
using System.Text.Json;
using Amalgam.Engine.Tests.Support;

namespace Amalgam.Cli.Tests.Commands;

/// <summary>
/// `amalgam eval`: the printed accuracy and loss against a float64 recomputation of a tiny
/// classifier, the JSON shape, and bad input failing with exit 2 and one line naming the file or option.
/// </summary>
public sealed class EvalCommandTests
{
    private static (string Model, string Data, string Labels, double Accuracy, double Loss) Make(Fixtures.TempDir dir)
    {
        var mlp = new TanhMlp(5, scale: 1.5);
        mlp.Save(dir.File("m.onnx"));
        var x = TanhMlp.Inputs(24, 6, dir.File("x.npy"));
        var y = Enumerable.Range(0, 24).Select(i => (long)(i % 3)).ToArray();
        TanhMlp.WriteLabels(dir.File("y.npy"), y);
        double loss = 0, correct = 0;
        for (int i = 0; i < 24; i++)
        {
            var z = TanhMlp.Logits(mlp.P, x[i]);
            loss -= TanhMlp.LogProb(z, (int)y[i]);
            if (TanhMlp.ArgMax(z) == y[i]) correct++;
        }
        return (dir.File("m.onnx"), dir.File("x.npy"), dir.File("y.npy"), correct / 24, loss / 24);
    }

    [Test]
    public void TextReportsAccuracyLossCountsAndPerClassTable()
    {
        using var dir = Fixtures.NewTempDir();
        var m = Make(dir);
        var (exit, stdout, err) = CliHarness.Run("eval", "--model", m.Model, "--data", m.Data, "--labels", m.Labels, "--batch-size", "5");
        Assert.That((exit, err), Is.EqualTo((0, "")));
        var lines = stdout.Split('\n', StringSplitOptions.TrimEntries);
        Assert.That(lines[0], Does.StartWith("accuracy  " + m.Accuracy.ToString("F4", CultureInfo.InvariantCulture)).And.Contain("/24)"));
        double printedLoss = double.Parse(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        Assert.That(printedLoss, Is.EqualTo(m.Loss).Within(1e-5 * m.Loss));
        Assert.That(lines[2], Is.EqualTo("samples   24"));
        Assert.That(lines[3], Is.EqualTo("classes   3"));
        Assert.That(lines[5], Does.Match(@"^class\s+samples\s+correct\s+accuracy$"));
        for (int c = 0; c < 3; c++) Assert.That(lines[6 + c], Does.Match($@"^{c}\s+8\s+\d+\s+\d\.\d{{4}}$"));
    }

    [Test]
    public void JsonIsOneObjectWithTheContractFields()
    {
        using var dir = Fixtures.NewTempDir();
        var m = Make(dir);
        var (exit, stdout, err) = CliHarness.Run("eval", "--model", m.Model, "--data", m.Data, "--labels", m.Labels, "--json", "--threads", "2");
        Assert.That((exit, err), Is.EqualTo((0, "")));
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.That(root.GetProperty("accuracy").GetDouble(), Is.EqualTo(m.Accuracy));
        Assert.That(root.GetProperty("loss").GetDouble(), Is.EqualTo(m.Loss).Within(1e-5 * m.Loss));
        Assert.That(root.GetProperty("samples").GetInt64(), Is.EqualTo(24));
        Assert.That(root.GetProperty("classes").GetInt32(), Is.EqualTo(3));
        var perClass = root.GetProperty("per_class");
        Assert.That(perClass.GetArrayLength(), Is.EqualTo(3));
        long correct = 0;
        for (int c = 0; c < 3; c++)
        {
            Assert.That(perClass[c].GetProperty("class").GetInt32(), Is.EqualTo(c));
            Assert.That(perClass[c].GetProperty("samples").GetInt64(), Is.EqualTo(8));
            long hits = perClass[c].GetProperty("correct").GetInt64();
            Assert.That(perClass[c].GetProperty("accuracy").GetDouble(), Is.EqualTo(hits / 8.0));
            correct += hits;
        }
        Assert.That(root.GetProperty("correct").GetInt64(), Is.EqualTo(correct));
    }

    [Test]
    public void BadInputExitsTwoWithOneLine()
    {
        using var dir = Fixtures.NewTempDir();
        var m = Make(dir);
        TanhMlp.WriteLabels(dir.File("short.npy"), [0, 1, 2]);
        TanhMlp.WriteLabels(dir.File("range.npy"), Enumerable.Range(0, 24).Select(i => (long)(i % 4)).ToArray());
        using (var t = Amalgam.Kernels.Tensor.Allocate("x", Amalgam.Kernels.DType.F32, [24, 9]))
            Amalgam.Engine.Data.Npy.NpyFile.Write(dir.File("wide.npy"), t);
        var cases = new (string[] Args, string Contains)[]
        {
            (["--labels", dir.File("short.npy")], "short.npy"),
            (["--labels", dir.File("range.npy")], "range.npy"),
            (["--labels", dir.File("none.npy")], "none.npy"),
            (["--data", dir.File("wide.npy")], "wide.npy"),
            (["--model", dir.File("nope.onnx")], "nope.onnx"),
            (["--batch-size", "0"], "--batch-size"),
            (["--threads", "0"], "--threads"),
        };
        foreach (var (over, contains) in cases)
        {
            var args = new Dictionary<string, string> { ["--model"] = m.Model, ["--data"] = m.Data, ["--labels"] = m.Labels };
            for (int i = 0; i < over.Length; i += 2) args[over[i]] = over[i + 1];
            var (exit, stdout, err) = CliHarness.Run(["eval", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
            Assert.That(exit, Is.EqualTo(2), contains);
            Assert.That(err.TrimEnd().Split('\n'), Has.Length.EqualTo(1), err);
            Assert.That(err, Does.Contain(contains));
            Assert.That(stdout, Is.Empty);
        }
        var (missing, _, missingErr) = CliHarness.Run("eval", "--model", m.Model, "--data", m.Data);
        Assert.That(missing, Is.EqualTo(2));
        Assert.That(missingErr, Does.Contain("--labels"));
    }
}
