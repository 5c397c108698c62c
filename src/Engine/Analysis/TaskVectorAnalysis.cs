using System.Diagnostics;
using Amalgam.Engine.Merging;
using Amalgam.Kernels;
using Amalgam.Kernels.Analysis;

namespace Amalgam.Engine.Analysis;

/// <summary>What `amalgam analyze` reads: the base, the fine-tuned models (task order) and the task-private pattern.</summary>
public sealed record AnalysisRequest
{
    public required string Base { get; init; }
    public required IReadOnlyList<string> Models { get; init; }
    /// <summary>Regex of task-private tensors (heads), left out of the analysis; null = none.</summary>
    public string? Private { get; init; }
    /// <summary>Worker threads (0 = all cores); the result does not depend on it.</summary>
    public int Threads { get; init; }
    public IProgress<MergeProgress>? Progress { get; init; }
}

/// <summary>
/// The task vectors tau_k = theta_k - theta0 of one shared tensor (a layer) or of all of them
/// (<see cref="TaskVectorAnalysis.Overall"/>, as if flattened into one vector):
/// <list type="bullet">
/// <item><see cref="RelativeNorm"/>(k) = ||tau_k|| / ||theta0|| (how far fine-tuning moved the layer);</item>
/// <item><see cref="Cosine"/>[i][j] = &lt;tau_i, tau_j&gt; / (||tau_i|| ||tau_j||) (Ilharco et al. 2023, Fig. 4);</item>
/// <item><see cref="SignConflict"/>[i][j] = #{d: tau_i[d], tau_j[d] non-zero with opposite signs} / #{d: both non-zero}
/// (the interference TIES resolves, Yadav et al. 2023).</item>
/// </list>
/// Norms and dot products in float64. An undefined value (a zero norm, no entry non-zero in both) is NaN.
/// </summary>
public sealed record LayerAnalysis(string Name, long Elements, double BaseNorm, double[] TaskNorms, double[][] Cosine, double[][] SignConflict)
{
    public double RelativeNorm(int task) => TaskNorms[task] / BaseNorm;

    /// <summary>The mean over the K(K-1)/2 task pairs of <paramref name="matrix"/> (NaN entries skipped; NaN if none).</summary>
    public static double PairMean(double[][] matrix)
    {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < matrix.Length; i++)
            for (int j = i + 1; j < matrix.Length; j++)
                if (!double.IsNaN(matrix[i][j])) { sum += matrix[i][j]; n++; }
        return n == 0 ? double.NaN : sum / n;
    }
}

/// <summary>
/// The analysis of K task vectors against their base, per shared tensor and overall. Streams: each
/// tensor is read from every checkpoint (mapped where the format allows), its task vectors formed
/// tile by tile, and only the sums kept; tensors run in parallel, each on one worker in tile order,
/// and the overall sums add the tensors in order, so the result is the same at any thread count.
/// </summary>
public sealed class TaskVectorAnalysis
{
    private TaskVectorAnalysis(IReadOnlyList<string> tasks, IReadOnlyList<LayerAnalysis> layers, LayerAnalysis overall, IReadOnlyList<string> skipped)
        => (Tasks, Layers, Overall, Skipped) = (tasks, layers, overall, skipped);

    public IReadOnlyList<string> Tasks { get; }

    /// <summary>One entry per shared tensor, in the engine's tensor order.</summary>
    public IReadOnlyList<LayerAnalysis> Layers { get; }

    public LayerAnalysis Overall { get; }

    /// <summary>Tensors left out: the task-private ones (by --private).</summary>
    public IReadOnlyList<string> Skipped { get; }

    public static TaskVectorAnalysis Run(AnalysisRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Threads < 0) throw new BadInputException($"--threads {request.Threads}: must be at least 1");
        if (request.Models.Count == 0) throw new BadInputException("no task models given (--model)");
        var clock = Stopwatch.StartNew();
        using var problem = MergeProblem.Open(request.Base, request.Models, request.Private);
        int K = problem.K, count = problem.Shared.Count;
        var sums = new Sums[count];
        int done = 0;
        long bytesTotal = problem.SharedBytes * (K + 1), bytesRead = 0;
        var gate = new object();
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Parallelism.Resolve(request.Threads) }, i =>
        {
            using var loaded = LoadedGroup.Load(problem, i);
            sums[i] = Sums.Of(loaded.Group);
            lock (gate)
            {
                done++;
                bytesRead += problem.Shared[i].ByteLength * (K + 1);
                request.Progress?.Report(new MergeProgress("analyze", done, count, bytesRead, bytesTotal, clock.Elapsed));
            }
        });
        var overall = new Sums(K);
        foreach (var s in sums) overall.Add(s);
        var layers = sums.Select((s, i) => s.ToLayer(problem.Shared[i].Name)).ToArray();
        var skipped = problem.Private.SelectMany(p => p.Select(t => t.Name)).Concat(problem.BasePrivate.Select(t => t.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return new TaskVectorAnalysis(problem.TaskNames, layers, overall.ToLayer("(all shared tensors)"), skipped);
    }

    /// <summary>The sums one layer (or all of them) reduces to.</summary>
    private sealed class Sums(int k)
    {
        private long _elements;
        private double _baseSquares;
        private readonly double[] _dots = new double[k * k];        // [i * k + j], j >= i; the diagonal holds ||tau_i||^2
        private readonly long[] _conflicts = new long[k * k], _both = new long[k * k];

        public static Sums Of(TensorGroup g)
        {
            var s = new Sums(g.K);
            TaskVectors.ForEachTile(g, new Chunk(0, 0, g.Length), null, null, (start, n, theta0, taus) =>
            {
                s._elements += n;
                s._baseSquares += TaskVectorStatistics.Dot(theta0, theta0);
                for (int i = 0; i < g.K; i++)
                {
                    var a = taus.Slice(i * n, n);
                    for (int j = i; j < g.K; j++)
                    {
                        var b = taus.Slice(j * n, n);
                        s._dots[i * g.K + j] += TaskVectorStatistics.Dot(a, b);
                        if (j == i) continue;
                        var (conflicts, both) = TaskVectorStatistics.SignConflicts(a, b);
                        s._conflicts[i * g.K + j] += conflicts;
                        s._both[i * g.K + j] += both;
                    }
                }
            });
            return s;
        }

        public void Add(Sums other)
        {
            _elements += other._elements;
            _baseSquares += other._baseSquares;
            for (int i = 0; i < _dots.Length; i++)
            {
                _dots[i] += other._dots[i];
                _conflicts[i] += other._conflicts[i];
                _both[i] += other._both[i];
            }
        }

        public LayerAnalysis ToLayer(string name)
        {
            var norms = Enumerable.Range(0, k).Select(i => Math.Sqrt(_dots[i * k + i])).ToArray();
            var cosine = new double[k][];
            var conflict = new double[k][];
            for (int i = 0; i < k; i++)
            {
                cosine[i] = new double[k];
                conflict[i] = new double[k];
                for (int j = 0; j < k; j++)
                {
                    int at = Math.Min(i, j) * k + Math.Max(i, j);
                    double denominator = norms[i] * norms[j];
                    cosine[i][j] = denominator > 0 ? Math.Clamp(_dots[at] / denominator, -1, 1) : double.NaN;
                    conflict[i][j] = i == j ? 0 : _both[at] > 0 ? (double)_conflicts[at] / _both[at] : double.NaN;
                }
            }
            return new LayerAnalysis(name, _elements, Math.Sqrt(_baseSquares), norms, cosine, conflict);
        }
    }
}
