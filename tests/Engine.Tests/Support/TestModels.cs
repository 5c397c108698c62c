using NUnit.Framework;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.OnnxIO.Safetensors;

namespace Amalgam.Engine.Tests.Support;

/// <summary>One tensor of a test model: name, dtype, shape.</summary>
public sealed record Spec(string Name, DType DType, params long[] Shape)
{
    public long Count => Shapes.ElementCount(Shape);
}

/// <summary>Random checkpoints for merge tests and readers that give back what a file stores, as f64.</summary>
public static class TestModels
{
    /// <summary>Mixed dtypes and awkward shapes: scalars, one element, odd lengths that do not fill a vector.</summary>
    public static readonly Spec[] Mixed =
    [
        new("a.weight", DType.F32, 7, 13),
        new("a.bias", DType.F32, 13),
        new("b.scalar", DType.F32),
        new("b.one", DType.F16, 1),
        new("c.half", DType.F16, 3, 37),
        new("d.brain", DType.BF16, 129),
        new("e.big", DType.F32, 70001),
        new("f.double", DType.F64, 5),
    ];

    /// <summary>Writes base + K task models (base plus noise of scale 0.05) into <paramref name="dir"/>; returns their paths.</summary>
    public static (string Base, string[] Tasks) WriteRandomSafetensors(string dir, IReadOnlyList<Spec> specs, int k, int seed,
        IReadOnlyList<Tensor>? extra = null)
    {
        var rng = new Random(seed);
        var baseValues = specs.Select(s => Enumerable.Range(0, (int)s.Count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        string basePath = Path.Combine(dir, "base.safetensors");
        Write(basePath, specs, baseValues, extra);
        var tasks = new string[k];
        for (int t = 0; t < k; t++)
        {
            var values = baseValues.Select(v => v.Select(x => x + (float)((rng.NextDouble() * 2 - 1) * 0.05)).ToArray()).ToArray();
            tasks[t] = Path.Combine(dir, $"task{t}.safetensors");
            Write(tasks[t], specs, values, extra);
        }
        return (basePath, tasks);
    }

    public static void Write(string path, IReadOnlyList<Spec> specs, IReadOnlyList<float[]> values, IReadOnlyList<Tensor>? extra = null)
    {
        var tensors = specs.Select((s, i) => Make(s, values[i])).ToList();
        try
        {
            SafetensorsWriter.WriteAll(path, extra is null ? tensors : tensors.Concat(extra));
        }
        finally
        {
            tensors.ForEach(t => t.Dispose());
        }
    }

    public static Tensor Make(Spec s, float[] values)
    {
        var t = Tensor.Allocate(s.Name, s.DType, s.Shape);
        DTypeConvert.FromFloat32(values, t, 0);
        return t;
    }

    /// <summary>Every tensor of a safetensors checkpoint as f64, by name.</summary>
    public static Dictionary<string, double[]> ReadSafetensors(string path)
    {
        using var src = SafetensorsSource.Open(path);
        return src.Names.ToDictionary(n => n, n =>
        {
            using var t = src.Get(n);
            return ToDoubles(t);
        });
    }

    /// <summary>Every float initializer of an ONNX model as f64, by name.</summary>
    public static Dictionary<string, double[]> ReadOnnx(string path)
    {
        var m = OnnxModel.Load(path);
        return m.ListInitializers().Where(i => i.DType is { } d && d.IsFloat()).ToDictionary(i => i.Name, i =>
        {
            using var t = m.ReadInitializer(i.Name);
            return ToDoubles(t);
        });
    }

    public static double[] ToDoubles(Tensor t)
    {
        if (t.DType == DType.F64) return t.Read<double>().ToArray();
        var f = new float[t.ElementCount];
        DTypeConvert.ToFloat32(t, f, 0);
        return f.Select(x => (double)x).ToArray();
    }

    /// <summary>Copies of an ONNX model with every float initializer perturbed (noise of scale 0.05), written to <paramref name="dir"/>.</summary>
    public static string[] PerturbedOnnxCopies(string source, string dir, int k, int seed, OnnxSaveOptions? options = null)
    {
        var rng = new Random(seed);
        var paths = new string[k];
        for (int c = 0; c < k; c++)
        {
            var m = OnnxModel.Load(source);
            foreach (var init in m.ListInitializers().Where(i => i.DType == DType.F32))
            {
                using var t = m.ReadInitializer(init.Name);
                using var copy = t.Clone();
                var span = copy.Write<float>();
                for (int i = 0; i < span.Length; i++) span[i] += (float)((rng.NextDouble() * 2 - 1) * 0.05);
                m.ReplaceInitializer(init.Name, copy);
            }
            paths[c] = Path.Combine(dir, $"task{c}.onnx");
            m.Save(paths[c], options ?? OnnxSaveOptions.Inline);
        }
        return paths;
    }

    /// <summary>Files in a folder (recursively), for "nothing left behind" checks.</summary>
    public static string[] FilesIn(string dir) =>
        Directory.GetFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).OrderBy(p => p, StringComparer.Ordinal).ToArray();

    /// <summary>The f64 reference of Task Arithmetic: theta0 + lambda * sum_k w_k (theta_k - theta0).</summary>
    public static double[] TaskArithmetic(double[] theta0, IReadOnlyList<double[]> thetas, double lambda, IReadOnlyList<double> w)
    {
        var r = new double[theta0.Length];
        for (int i = 0; i < r.Length; i++)
        {
            double sum = 0;
            for (int k = 0; k < thetas.Count; k++) sum += w[k] * (thetas[k][i] - theta0[i]);
            r[i] = theta0[i] + lambda * sum;
        }
        return r;
    }

    /// <summary>Scale for a relative error bound of an element: |theta0| + lambda * sum_k |w_k tau_k|.</summary>
    public static double Scale(double[] theta0, IReadOnlyList<double[]> thetas, double lambda, IReadOnlyList<double> w, int i)
    {
        double s = Math.Abs(theta0[i]);
        for (int k = 0; k < thetas.Count; k++) s += Math.Abs(lambda * w[k] * (thetas[k][i] - theta0[i]));
        return s;
    }

    /// <summary>Asserts every shared tensor of <paramref name="merged"/> against the f64 Task Arithmetic reference.</summary>
    public static void AssertTaskArithmetic(Dictionary<string, double[]> merged, Dictionary<string, DType> outDTypes,
        Dictionary<string, double[]> theta0, IReadOnlyList<Dictionary<string, double[]>> thetas, double lambda, double[] w)
    {
        foreach (var (name, actual) in merged)
        {
            var tk = thetas.Select(t => t[name]).ToList();
            var reference = TaskArithmetic(theta0[name], tk, lambda, w);
            DType dt = outDTypes[name];
            for (int i = 0; i < actual.Length; i++)
            {
                if (dt is DType.F32 or DType.F64)
                {
                    double bound = 1e-6 * Scale(theta0[name], tk, lambda, w, i) + 1e-30;
                    Assert.That(Math.Abs(actual[i] - reference[i]), Is.LessThanOrEqualTo(bound), $"{name}[{i}]");
                }
                else
                {
                    Assert.That(Ulp.Distance(actual[i], Ulp.Round(reference[i], dt), dt), Is.LessThanOrEqualTo(1), $"{name}[{i}] ({dt})");
                }
            }
        }
    }
}
