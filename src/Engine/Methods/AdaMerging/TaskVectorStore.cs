using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>One piece of the fused kernels' work: elements [Start, Start + Length) of shared tensor <see cref="Tensor"/>.</summary>
internal readonly record struct WorkSlice(int Tensor, long Start, int Length);

/// <summary>
/// The K task vectors in memory once, f32: per shared tensor theta0 [n] and tau [K, n] (row k =
/// theta_k - theta0, or with <c>ties_preprocess</c> its TIES trimmed-and-agreeing part), plus the
/// fixed list of work slices (each tensor cut by <see cref="ChunkPlan"/>, tensors in order) that
/// both fused kernels run in parallel; results never depend on the thread count.
/// </summary>
internal sealed class TaskVectorStore : IDisposable
{
    private readonly List<Tensor> _theta0 = [];
    private readonly List<Tensor> _taus = [];

    private TaskVectorStore(IReadOnlyList<string> names, int k)
    {
        Names = names;
        K = k;
    }

    public IReadOnlyList<string> Names { get; }
    public int K { get; }
    public IReadOnlyList<Tensor> Theta0 => _theta0;

    /// <summary>Per tensor a [K, n] f32 tensor: task k's vector in row k.</summary>
    public IReadOnlyList<Tensor> Taus => _taus;
    public WorkSlice[] Slices { get; private set; } = [];

    /// <summary>Total shared elements (one model).</summary>
    public long Elements { get; private set; }

    /// <summary>
    /// Loads theta0 and the task vectors of every shared tensor (all must be f32: the gradient graphs
    /// bind them as f32 inputs). With <paramref name="tiesK"/> each tau_k becomes TIES' part of it:
    /// global top-k trim per task (the thresholds of <see cref="Methods.TiesMethod"/>, scope global),
    /// elected sign = sign(sum_k trimmed_k) (the model's majority sign where that is 0), entries of
    /// trimmed_k that agree with it, +0 elsewhere.
    /// </summary>
    public static TaskVectorStore Load(MergeProblem problem, double? tiesK)
    {
        var names = problem.Shared.Select(t => t.Name).ToArray();
        foreach (var t in problem.Shared)
            if (t.DType != DType.F32)
                throw new BadInputException($"{problem.Base.Path}: shared tensor '{t.Name}' is {t.DType.ShortName()}; adamerging trains f32 ONNX models");
        var tv = new TaskVectorStore(names, problem.K);
        try
        {
            Methods.TiesMethod? ties = tiesK is double k ? TiesStatistics(problem, k) : null;
            for (int i = 0; i < names.Length; i++)
            {
                using var group = LoadedGroup.Load(problem, i);
                tv.Add(group, ties);
            }
            tv.PlanSlices();
            return tv;
        }
        catch
        {
            tv.Dispose();
            throw;
        }
    }

    /// <summary>Task vectors over given f32 tensors (theta0 [n] and tau [K, n] per tensor; taken over, disposed with this); for benchmarks.</summary>
    internal static TaskVectorStore FromTensors(IReadOnlyList<string> names, IReadOnlyList<Tensor> theta0, IReadOnlyList<Tensor> taus, int k)
    {
        var tv = new TaskVectorStore(names, k);
        tv._theta0.AddRange(theta0);
        tv._taus.AddRange(taus);
        tv.Elements = theta0.Sum(t => t.ElementCount);
        tv.PlanSlices();
        return tv;
    }

    private static Methods.TiesMethod TiesStatistics(MergeProblem problem, double k)
    {
        var options = new TiesOptions(k, TiesScope.Global, MajorityZeroSign: true, TiesMergeMode.Sum, 1.0, Enumerable.Repeat(1.0, problem.K).ToArray(), "fusionbench");
        var ties = new Methods.TiesMethod(options, drop: null);
        for (int pass = 0; pass < ties.PrepassCount; pass++)
        {
            for (int i = 0; i < problem.Shared.Count; i++)
            {
                using var group = LoadedGroup.Load(problem, i);
                ties.Observe(pass, group.Group);
            }
            ties.EndPrepass(pass);
        }
        return ties;
    }

    private void Add(LoadedGroup loaded, Methods.TiesMethod? ties)
    {
        var g = loaded.Group;
        long n = g.Length;
        var theta0 = g.Theta0.Clone(g.Name);
        _theta0.Add(theta0);
        var taus = Tensor.Allocate(g.Name + ".tau", DType.F32, [K, n], zero: false);
        _taus.Add(taus);
        Elements += n;
        float[] thresholds = ties?.Thresholds.ToArray() ?? [];
        float zeroSign = ties?.ZeroSign ?? 1f;
        ParallelChunks.For(ChunkPlan.For<float>(n), chunk =>
        {
            if (ties is null)
            {
                var t0 = theta0.Read<float>(chunk.Start, (int)chunk.Length);
                for (int k = 0; k < K; k++)
                    Kernels.Merge.TaskArithmetic.SubtractInto(g.Thetas[k].Read<float>(chunk.Start, (int)chunk.Length), t0,
                        taus.Write<float>(k * n + chunk.Start, (int)chunk.Length));
                return;
            }
            TaskVectors.ForEachTile(g, chunk, null, null, (start, len, _, trimmed) =>
                AgreeingParts.Write(trimmed, K, len, zeroSign, taus, n, start), thresholds);
        });
    }

    private void PlanSlices()
    {
        var slices = new List<WorkSlice>();
        for (int i = 0; i < _theta0.Count; i++)
        {
            var plan = ChunkPlan.For<float>(_theta0[i].ElementCount);
            for (int c = 0; c < plan.ChunkCount; c++) slices.Add(new WorkSlice(i, plan[c].Start, (int)plan[c].Length));
        }
        Slices = slices.ToArray();
    }

    /// <summary>Slices of one tensor only (the final merge writes one tensor at a time).</summary>
    public WorkSlice[] SlicesOf(int tensor) => Slices.Where(s => s.Tensor == tensor).ToArray();

    public void Dispose()
    {
        foreach (var t in _theta0) t.Dispose();
        foreach (var t in _taus) t.Dispose();
        _theta0.Clear();
        _taus.Clear();
    }
}
