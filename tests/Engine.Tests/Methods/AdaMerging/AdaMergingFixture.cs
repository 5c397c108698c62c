using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.AdaMerging;
using Amalgam.Kernels.Optim;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Methods.AdaMerging;

/// <summary>The K = 3 CLIP-style tasks of tests/fixtures/adamerging (make_adamerging_reference.py) and the torch reference.</summary>
internal static class AdaMergingFixture
{
    public const string Private = @"^head\.";
    public const int K = 3;

    public static string Dir => Fixtures.File("adamerging");
    public static string Base => Path.Combine(Dir, "base.onnx");
    public static string[] Tasks => Enumerable.Range(1, K).Select(k => Path.Combine(Dir, $"task_{k}.onnx")).ToArray();
    public static string[] Data => Enumerable.Range(1, K).Select(k => Path.Combine(Dir, $"data_{k}.npy")).ToArray();

    /// <summary>The reference's settings: init 0.3, Adam 1e-3, batch 8, 2 batches per step, file order.</summary>
    public static AdaMergingOptions Options(Granularity g, int steps = 20, bool ties = false, int batchSize = 8, bool shuffle = false, int checkpointEvery = 0) =>
        new(g, 0.3f, new AdamSettings(1e-3f, 0.9f, 0.999f, 1e-8f, 0f), steps, batchSize, 2, shuffle, ties, 0.2, checkpointEvery);

    public static MergeProblem Open() => MergeProblem.Open(Base, Tasks, Private);

    /// <summary>Reference tensor <paramref name="name"/> as f64 with its shape.</summary>
    public static (double[] Values, long[] Shape) Reference(string name)
    {
        using var file = SafetensorsFile.Open(Path.Combine(Dir, "reference.safetensors"));
        using var t = file.Get(name);
        double[] values = t.DType == DType.F64 ? t.Read<double>().ToArray() : t.Read<float>().ToArray().Select(x => (double)x).ToArray();
        return (values, t.ShapeArray());
    }
}
