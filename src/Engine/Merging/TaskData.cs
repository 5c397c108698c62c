using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.Methods;
using Amalgam.Engine.Training;
using Amalgam.Kernels;
using Amalgam.OnnxIO.Onnx;
using Amalgam.Kernels.Merge;

namespace Amalgam.Engine.Merging;

/// <summary>What data-dependent methods read of a task: its `--data` samples and its model at chosen parameters.</summary>
public static class TaskData
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
            var b = Float32Loader.ToArray(theta0);
            var t = Float32Loader.ToArray(theta);
            TaskArithmetic.SubtractInto(t, b, t);   // tau_k, then theta0 + alpha tau_k: task arithmetic's kernels
            TaskArithmetic.AddScaled(b, a, t, t);
            using var value = Tensor.Allocate(info.Name, info.DType, info.Shape, zero: false);
            DTypeConvert.FromFloat32(t, value, 0);
            model.ReplaceInitializer(info.Name, value);
        }
        return model;
    }
}
