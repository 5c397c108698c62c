using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
using Amalgam.Kernels.Selection;
using Amalgam.Kernels;

namespace Amalgam.Engine.Methods;

/// <summary>
/// Model Breadcrumbs (Davari and Belilovsky, 2024): per tensor of N entries and per task,
/// n_top = floor(gamma*N), target = floor(density*N), n_bot = N - target - n_top (if negative:
/// n_top += n_bot, n_bot = 0); the n_bot smallest and the n_top largest |tau_k| are zeroed
/// (ranked by |tau|, lower index first among equals; n_top = 0 drops nothing at the top, unlike
/// mergekit, which then drops everything). Then theta = theta0 + lambda * sum_k w_k tau_k with the
/// same f32 order as task_arithmetic (s = w_0 tau_0; s = s + w_k tau_k; theta0 + lambda s).
/// Memory: one task vector of the current tensor (N f32); the output tensor accumulates the sum.
/// </summary>
public sealed class BreadcrumbsMethod(double gamma, double density, double lambda, IReadOnlyList<double> weights) : MergeMethod
{
    public static readonly MethodSpec Spec = new("breadcrumbs",
        "drop the largest gamma and the smallest entries of each task vector down to density, then task_arithmetic",
        [
            ParameterSpec.Float("gamma", 0.01, "fraction of entries with the largest |tau| dropped per tensor", min: 0, max: 1),
            ParameterSpec.Float("density", 0.9, "fraction of entries kept per tensor (the smallest |tau| are dropped)", min: 0, max: 1),
            ParameterSpec.Float("lambda", 0.3, "scale of the summed task vectors"),
            ParameterSpec.PerTask("weights", 1.0, "per-task weight w_k"),
        ],
        s => new BreadcrumbsMethod(s.Float("gamma"), s.Float("density"), s.Float("lambda"), s.PerTask("weights")));

    /// <summary>(n_bot, n_top) for a tensor of <paramref name="n"/> entries.</summary>
    public static (long DropBottom, long DropTop) Counts(long n, double gamma, double density)
    {
        long top = (long)Math.Floor(gamma * n), target = (long)Math.Floor(density * n);
        long bottom = n - target - top;
        if (bottom < 0) { top += bottom; bottom = 0; }
        return (bottom, top);
    }

    public override void Merge(TensorGroup g, Tensor merged)
    {
        int n = checked((int)g.Length);
        var (bottom, top) = Counts(n, gamma, density);
        var plan = ChunkPlan.For<float>(n);
        using var tau = Tensor.Allocate(g.Name + ".tau", DType.F32, [n], zero: false);
        for (int k = 0; k < g.K; k++)
        {
            int task = k;
            ParallelChunks.For(plan, c => WithTheta0(g, c, theta0 => g.TaskVectorTile(task, c.Start, theta0, tau.Write<float>(c.Start, (int)c.Length))));
            MagnitudeSelect.DropBottomTopInPlace(tau.Write<float>(), bottom, top);
            float w = (float)weights[task];
            ParallelChunks.For(plan, c =>
            {
                int len = (int)c.Length;
                Span<float> sum = merged.Write<float>(c.Start, len);
                ReadOnlySpan<float> t = tau.Read<float>(c.Start, len);
                if (task == 0)
                {
                    Span<nint> one = [TileSet.Address(t)];
                    TaskArithmetic.WeightedSum(new TileSet(one, len), [w], sum);
                }
                else
                {
                    // 1 * s is exact, so this is s + w_k tau_k.
                    Span<nint> two = [TileSet.Address(sum), TileSet.Address(t)];
                    TaskArithmetic.WeightedSum(new TileSet(two, len), [1f, w], sum);
                }
            });
        }
        float lambda1 = (float)lambda;
        ParallelChunks.For(plan, c => WithTheta0(g, c, theta0 =>
        {
            Span<float> sum = merged.Write<float>(c.Start, (int)c.Length);
            if (g.K == 0) sum.Clear();
            TaskArithmetic.AddScaled(theta0, lambda1, sum, sum);
        }));
    }

    private delegate void Theta0Body(ReadOnlySpan<float> theta0);

    /// <summary>Runs <paramref name="body"/> with theta0's elements of chunk <paramref name="c"/> in f32 (a view, or converted into pooled scratch).</summary>
    private static void WithTheta0(TensorGroup g, Chunk c, Theta0Body body)
    {
        int n = (int)c.Length;
        float[] scratch = System.Buffers.ArrayPool<float>.Shared.Rent(n);
        try { body(g.Theta0Tile(c.Start, n, scratch)); }
        finally { System.Buffers.ArrayPool<float>.Shared.Return(scratch); }
    }
}
