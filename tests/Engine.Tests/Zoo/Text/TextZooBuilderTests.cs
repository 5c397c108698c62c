using Amalgam.Engine.Data.Text;
using Amalgam.Engine.Zoo.Text;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Tests.Zoo.Text;

/// <summary>
/// The text zoo on the real MiniLM at a tiny budget (one task, a few probe iterations and
/// fine-tuning steps): the same options give the same bytes at 1 and 2 threads, a second call loads
/// the cache, and the models are the task's classifiers (head of its class count, encoder moved by
/// fine-tuning, head frozen).
/// </summary>
[NonParallelizable]
public class TextZooBuilderTests
{
    private static TextZooOptions Options(string cache, int threads) => new()
    {
        CacheDir = cache, Encoder = "minilm", Tasks = ["wn-pos"], Budget = 0.02, TestSamples = 32, Threads = threads, Seed = 3,
    };

    [Test]
    [CancelAfter(300_000)]
    public void SameOptionsGiveTheSameBytesAtAnyThreadCountAndTheCacheIsReused()
    {
        using var one = Fixtures.NewTempDir();
        using var two = Fixtures.NewTempDir();
        var a = TextZooBuilder.BuildOrLoad(Options(one.Path, 1));
        var b = TextZooBuilder.BuildOrLoad(Options(two.Path, 2));
        foreach (var (x, y) in a.Tasks.Zip(b.Tasks))
            foreach (var (p, q) in new[] { (x.Pretrained, y.Pretrained), (x.FineTuned, y.FineTuned), (x.TestInputs, y.TestInputs), (x.TestLabels, y.TestLabels) })
                Assert.That(File.ReadAllBytes(q), Is.EqualTo(File.ReadAllBytes(p)), Path.GetFileName(p));
        Assert.That(File.ReadAllBytes(b.Base), Is.EqualTo(File.ReadAllBytes(a.Base)));

        // A second call with the same options loads what is there (same folder, files untouched).
        var stamp = File.GetLastWriteTimeUtc(a.Tasks[0].FineTuned);
        var again = TextZooBuilder.BuildOrLoad(Options(one.Path, 2));
        Assert.That(again.Folder, Is.EqualTo(a.Folder));
        Assert.That(File.GetLastWriteTimeUtc(again.Tasks[0].FineTuned), Is.EqualTo(stamp));

        // The task's own classifier: 4 classes (noun, verb, adjective, adverb), encoder fine-tuned, head frozen.
        Assert.That(a.Tasks[0].ClassCount, Is.EqualTo(TextTasks.Build("wn-pos").ClassCount).And.EqualTo(4));
        var pretrained = OnnxModel.Load(a.Tasks[0].Pretrained);
        var fineTuned = OnnxModel.Load(a.Tasks[0].FineTuned);
        Assert.That(pretrained.GetInitializer("head.weight").Dims, Is.EqualTo(new long[] { 4, 384 }));
        using (var h0 = pretrained.ReadInitializer("head.weight"))
        using (var h1 = fineTuned.ReadInitializer("head.weight"))
            Assert.That(h1.Read<float>().ToArray(), Is.EqualTo(h0.Read<float>().ToArray()), "the head stays frozen");
        string layer = pretrained.ListInitializers().First(i => i.Name.Contains("attention.output.dense.bias")).Name;
        using (var e0 = pretrained.ReadInitializer(layer))
        using (var e1 = fineTuned.ReadInitializer(layer))
            Assert.That(e1.Read<float>().ToArray(), Is.Not.EqualTo(e0.Read<float>().ToArray()), "the encoder moves");
    }
}
