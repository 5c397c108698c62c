using System.Diagnostics;
using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.Methods;
using Amalgam.Kernels;

namespace Amalgam.Engine.Merging;

/// <summary>
/// Streams a merge tensor by tensor: for each of the method's prepasses and then the merge pass,
/// every shared tensor (sorted by name) is loaded from the K+1 checkpoints in its stored dtype
/// (views; the method converts L2-sized tiles to f32 as it reads them), handed to the method,
/// written (merge pass, converted to the output dtype) and freed before the next one, so peak memory is a few tensors
/// whatever the model size. Then task-private tensors and constants are copied. Every input tensor
/// is checked for NaN/Inf the first time it is read; any failure leaves no output behind.
/// </summary>
internal sealed class MergeExecutor(MergeProblem problem, MergeMethod method, MergeOutput output, IProgress<MergeProgress>? progress)
{
    private readonly Stopwatch _clock = new();
    private long _bytesRead, _bytesTotal;
    private int _done, _total;
    // The merge pass's f32 result, reused for every shared tensor (sized for the largest): a fresh allocation per
    // tensor is new anonymous memory each time (glibc maps large blocks and unmaps them on free), and its page
    // faults were most of the merge pass's faults and system time.
    private NativeStorage? _mergeBuffer;

    public long BytesRead => _bytesRead;

    public void Run()
    {
        _clock.Start();
        int passes = method.PrepassCount;
        long modelShared = problem.SharedBytes;
        _bytesTotal = (passes + 1) * (problem.K + 1) * modelShared
            + problem.Private.Sum(p => p.Sum(t => t.ByteLength)) + problem.Constants.Sum(t => t.ByteLength);
        _total = (passes + 1) * problem.Shared.Count + problem.Private.Sum(p => p.Count) + problem.Constants.Count;
        Report("start");
        output.Open();
        for (int pass = 0; pass < passes; pass++)
        {
            string name = passes == 1 ? "prepass" : $"prepass {pass + 1}";
            for (int i = 0; i < problem.Shared.Count; i++)
            {
                using (var group = LoadGroup(i, check: pass == 0)) method.Observe(pass, group.Group);
                _done++;
                Report(name);
            }
            method.EndPrepass(pass);
        }
        try
        {
            for (int i = 0; i < problem.Shared.Count; i++)
            {
                MergeOne(i, check: passes == 0);
                _done++;
                Report("merge");
            }
        }
        finally
        {
            _mergeBuffer?.Dispose();
            _mergeBuffer = null;
        }
        CopyPrivate();
        CopyConstants();
        output.Commit();
        Report("done");
    }

    private void MergeOne(int index, bool check)
    {
        var info = problem.Shared[index];
        using var group = LoadGroup(index, check);
        if (method.PerTaskModels)
        {
            // Every task's value first (they read the same inputs), then the writes.
            var perTask = new Tensor[problem.K];
            try
            {
                for (int k = 0; k < problem.K; k++)
                {
                    perTask[k] = Tensor.Allocate(info.Name, DType.F32, info.Shape, zero: false);
                    method.MergeTask(group.Group, k, perTask[k]);
                    CheckFinite(info, perTask[k]);
                }
                for (int k = 0; k < problem.K; k++) Write(info, perTask[k], w => output.WriteShared(k, w));
            }
            finally
            {
                foreach (var t in perTask) t?.Dispose();
            }
            return;
        }
        _mergeBuffer ??= new NativeStorage(problem.Shared.Max(t => Shapes.ElementCount(t.Shape) * sizeof(float)), zero: false);
        using var merged = Tensor.View(info.Name, DType.F32, info.Shape, _mergeBuffer, 0);
        method.Merge(group.Group, merged);
        CheckFinite(info, merged);
        Write(info, merged, output.WriteShared);
    }

    private static void CheckFinite(TensorInfo info, Tensor merged)
    {
        long bad = FiniteCheck.FirstNonFinite(merged);
        if (bad >= 0)
            throw new BadInputException($"tensor '{info.Name}': the merge produced a non-finite value at element {bad} (inputs overflow f32 under these parameters)");
    }

    /// <summary>The f32 result in the output's dtype, handed to <paramref name="write"/>.</summary>
    private void Write(TensorInfo info, Tensor merged, Action<Tensor> write)
    {
        var written = Float32Loader.Convert(merged, output.OutputDType(info));
        try
        {
            write(written);
        }
        finally
        {
            if (!ReferenceEquals(written, merged)) written.Dispose();
        }
    }

    /// <summary>Each task's own private tensors (its shapes), from its own file.</summary>
    private void CopyPrivate()
    {
        for (int k = 0; k < problem.K; k++)
            foreach (var info in problem.Private[k])
            {
                var task = problem.Tasks[k];
                if (info.DType.IsFloat())
                {
                    var stored = LoadChecked(task, info.Name);
                    Tensor? f = null, written = null;
                    try
                    {
                        f = Float32Loader.ToFloat32(stored);
                        written = Float32Loader.Convert(f, output.OutputDType(info));
                        output.WritePrivate(k, written);
                    }
                    finally
                    {
                        if (written is not null && !ReferenceEquals(written, f)) written.Dispose();
                        if (f is not null && !ReferenceEquals(f, stored)) f.Dispose();
                        Float32Loader.Release(stored);
                    }
                }
                else
                {
                    var t = task.Load(info.Name);
                    _bytesRead += t.ByteLength;
                    try { output.WritePrivate(k, t); }
                    finally { Float32Loader.Release(t); }
                }
                _done++;
                Report("copy");
            }
    }

    private void CopyConstants()
    {
        foreach (var info in problem.Constants)
        {
            var t = problem.Base.Load(info.Name);
            _bytesRead += t.ByteLength;
            try { output.WriteConstant(t); }
            finally { Float32Loader.Release(t); }
            _done++;
            Report("copy");
        }
    }

    /// <summary>One shared tensor from every model in its stored dtype; disposing it frees (and un-maps) them all.</summary>
    private LoadedGroup LoadGroup(int index, bool check) =>
        LoadedGroup.Load(problem, index, (c, name) => check ? LoadChecked(c, name) : Float32Loader.Load(c, name, ref _bytesRead));

    private Tensor LoadChecked(ICheckpoint c, string name)
    {
        var t = Float32Loader.Load(c, name, ref _bytesRead);
        long bad = FiniteCheck.FirstNonFinite(t);
        if (bad < 0) return t;
        Span<float> value = stackalloc float[1];
        DTypeConvert.ToFloat32(t, value, bad);
        float v = value[0];
        Float32Loader.Release(t);
        throw new BadInputException($"{c.Path}: tensor '{name}' holds {(float.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf")} at element {bad}");
    }

    private void Report(string pass) =>
        progress?.Report(new MergeProgress(pass, _done, _total, _bytesRead, _bytesTotal, _clock.Elapsed));
}
