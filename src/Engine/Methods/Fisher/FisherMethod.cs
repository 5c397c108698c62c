using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Amalgam.Engine.Checkpoints;
using Amalgam.Engine.LayerInputs;
using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods.Fisher;
using Amalgam.Engine.Training;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.Fisher;

/// <summary>
/// Fisher merging (Matena and Raffel, NeurIPS 2022): theta = sum_k F_k theta_k / sum_k F_k per
/// entry, with F_k the diagonal empirical Fisher of task k at its own weights theta_k (head
/// included) over the first `samples` inputs of its `--data` file, labels replaced by the model's
/// own argmax (<see cref="FisherEstimator"/>), floored at <see cref="Floor"/>. Only shared parameters
/// are merged; task-private ones (`--private`) stay per task as in every method.
/// Memory: the K Fisher diagonals of the shared parameters (K x 4 bytes per shared parameter, f32)
/// are kept from <see cref="Prepare"/> to the merge pass, each tensor's freed once it is merged; while
/// a task is estimated, also one float64 sum per shared parameter, one bound copy of the task's
/// parameters, and per worker a gradient session (built once for all tasks) with its gradients.
/// </summary>
public sealed class FisherMethod(long samples) : MergeMethod
{
    /// <summary>F is floored here so every denominator is positive (parameters the sampled inputs never move average plainly).</summary>
    public const float Floor = 1e-6f;

    public static readonly MethodSpec Spec = new("fisher",
        "sum_k F_k theta_k / sum_k F_k, F_k the diagonal Fisher of task k on its --data (argmax labels)",
        [ParameterSpec.Int("samples", 256, "inputs of each task's --data used to estimate its Fisher (the first ones)", min: 1)],
        s => new FisherMethod(s.Int("samples"))) { NeedsData = true };

    private Dictionary<string, Tensor>[]? _fisher;
    private double _seconds;

    public override bool NeedsData => true;

    public override void Prepare(MergeContext context)
    {
        var problem = context.Problem;
        var parameters = problem.Shared.Select(t => t.Name).ToList();
        var clock = Stopwatch.StartNew();
        long total = samples * problem.K;
        // Every data file is checked before the first (long) estimation; each is read again when its turn comes, so only one is held at a time.
        for (int k = 0; k < problem.K; k++)
            using (TaskData.LoadData(context, k, samples, "fisher")) { }
        _fisher = new Dictionary<string, Tensor>[problem.K];
        // One estimator (its gradient sessions built once) per head shape: the graphs are validated equal outside the
        // private parameters, constants too; shared parameters and the float task-private ones (heads) are bound per
        // task. Tasks whose heads have other shapes (their own class counts) need sessions of their own.
        var estimators = new Dictionary<string, FisherEstimator>(StringComparer.Ordinal);
        try
        {
            for (int k = 0; k < problem.K; k++)
            {
                var model = ((OnnxCheckpoint)problem.Tasks[k]).Model;
                var heads = problem.Private[k].Where(t => t.DType is DType.F32 or DType.F64).ToList();
                string signature = string.Join(";", heads.Select(t => t.ToString()));
                if (!estimators.TryGetValue(signature, out var estimator))
                    estimators[signature] = estimator = new FisherEstimator(model, parameters, heads.Select(t => t.Name).ToList(), context.Device);
                using var data = TaskData.LoadData(context, k, samples, "fisher");
                string detail = $"task {k + 1}/{problem.K}";
                long before = samples * k;
                void Report(long done) => context.Progress?.Report(new MergeProgress("fisher", (int)(before + done), (int)total, 0, 0, clock.Elapsed) { Detail = detail });
                Report(0);
                _fisher[k] = estimator.Compute(model, data.Inputs, samples, workers: 0, Report, context.Cancellation);
            }
        }
        catch
        {
            Release();
            throw;
        }
        finally
        {
            foreach (var e in estimators.Values) e.Dispose();
        }
        _seconds = clock.Elapsed.TotalSeconds;
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        if (_fisher is null) throw new InvalidOperationException("fisher: Merge before Prepare");
        var fishers = _fisher.Select(f => f[g.Name]).ToArray();
        try
        {
            var plan = ChunkPlan.For<float>(g.Length);
            ParallelChunks.For(plan, chunk => InputTiles.ForEachTile(g, chunk, (start, n, _, thetas) =>
            {
                Span<nint> pointers = stackalloc nint[fishers.Length];
                FisherMerge.Merge(thetas, Tiles(fishers, start, n, pointers), Floor, merged.Write<float>(start, n));
            }, withTheta0: false));
        }
        finally
        {
            // Each shared tensor is merged once: its Fisher diagonals are not needed again.
            foreach (var f in _fisher) f.Remove(g.Name);
            foreach (var t in fishers) t.Dispose();
        }
    }

    public override void WriteReport(Utf8JsonWriter writer)
    {
        writer.WriteNumber("samples", samples);
        writer.WriteNumber("fisher_seconds", _seconds);
    }

    /// <summary>Elements [start, start + n) of every task's Fisher (native f32 memory, pinned by nature).</summary>
    private static unsafe TileSet Tiles(Tensor[] fishers, long start, int n, Span<nint> pointers)
    {
        for (int k = 0; k < fishers.Length; k++)
            pointers[k] = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(fishers[k].Read<float>(start, n)));
        return new TileSet(pointers, n);
    }

    private void Release()
    {
        if (_fisher is null) return;
        foreach (var f in _fisher.OfType<Dictionary<string, Tensor>>())
            foreach (var t in f.Values) t.Dispose();
        _fisher = null;
    }
}
