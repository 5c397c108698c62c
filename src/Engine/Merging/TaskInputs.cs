using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.Methods;
using Amalgam.Engine.Training;
using Amalgam.Kernels.Blas;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;

namespace Amalgam.Engine.Merging;

/// <summary>What data-dependent methods share: each task's samples and its model at chosen parameters.</summary>
public static class TaskInputs
{
    /// <summary>Task <paramref name="k"/>'s `--data` file, checked to hold at least <paramref name="samples"/> samples.</summary>
    public static SampleData LoadData(MergeContext context, int k, long samples, string method)
    {
        var model = ((OnnxCheckpoint)context.Problem.Tasks[k]).Model;
        var data = SampleData.Load(model, context.Data[k]);
        if (data.Count < samples)
        {
            data.Dispose();
            throw new BadInputException($"--data {context.Data[k]}: {method} samples={samples}, but the file holds only {data.Count} samples (set samples to at most {data.Count})");
        }
        return data;
    }

    /// <summary>
    /// Task <paramref name="k"/>'s model (its private parameters included) with every shared
    /// parameter replaced by theta0 + <paramref name="alpha"/> (theta_k - theta0), computed in f32
    /// and stored in the parameter's dtype. The checkpoint's own model is not changed.
    /// </summary>
    public static OnnxModel ScaledTaskModel(MergeContext context, int k, double alpha)
    {
        var problem = context.Problem;
        var task = ((OnnxCheckpoint)problem.Tasks[k]).Model;
        var model = new OnnxModel(task.Proto.Clone(), task.BaseDirectory, task.DisplayName);
        float a = (float)alpha;
        foreach (var info in problem.Shared)
        {
            using var theta0 = problem.Base.Load(info.Name);
            using var theta = problem.Tasks[k].Load(info.Name);
            var b = Float32(theta0);
            var t = Float32(theta);
            for (long i = 0; i < b.LongLength; i++) t[i] = b[i] + a * (t[i] - b[i]);
            using var value = Tensor.Allocate(info.Name, info.DType, info.Shape, zero: false);
            DTypeConvert.FromFloat32(t, value, 0);
            model.ReplaceInitializer(info.Name, value);
        }
        return model;
    }

    /// <summary>A parameter of a checkpoint in f32 (stored layout).</summary>
    public static float[] Float32Of(ICheckpoint checkpoint, string name)
    {
        using var t = checkpoint.Load(name);
        return Float32(t);
    }

    public static float[] Float32(Tensor t)
    {
        var v = new float[t.ElementCount];
        DTypeConvert.ToFloat32(t, v, 0);
        return v;
    }

    /// <summary>tau_k = theta_k - theta0 of one shared parameter for every task k, in f32 (stored layout); theta0 is read once.</summary>
    public static float[][] TaskVectors(MergeProblem problem, string name)
    {
        var b = Float32Of(problem.Base, name);
        var taus = new float[problem.K][];
        for (int k = 0; k < problem.K; k++)
        {
            var t = Float32Of(problem.Tasks[k], name);
            for (long i = 0; i < t.LongLength; i++) t[i] -= b[i];
            taus[k] = t;
        }
        return taus;
    }
}

/// <summary>
/// Pins OpenBLAS to one thread for the duration of a data-dependent method's BLAS/LAPACK work and
/// restores the previous count: OpenBLAS results differ in the last bits across thread counts, and
/// output must not depend on `--threads`.
/// </summary>
public readonly struct BlasThreadPin : IDisposable
{
    private readonly int _previous;

    private BlasThreadPin(int previous) => _previous = previous;

    public static BlasThreadPin One()
    {
        int previous = OpenBlas.ThreadCount;
        OpenBlas.ThreadCount = 1;
        return new BlasThreadPin(previous);
    }

    public void Dispose()
    {
        if (_previous >= 1) OpenBlas.ThreadCount = _previous;
    }
}
