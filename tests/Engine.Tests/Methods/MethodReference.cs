using Amalgam.Engine.Merging;
using Amalgam.Engine.Tests.Support;
using Amalgam.Kernels;
using Amalgam.Kernels.Rng;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// Independent f64 references of the methods (plain loops and full sorts; nothing from the merge
/// kernels). Task vectors are formed as the engine's working type does: inputs as f32, tau = f32
/// difference, DARE's scaled survivors rounded to f32; everything after that (selection, sign
/// election, merging, scaling) is in f64, so only the values selection compares are shared.
/// </summary>
public static class MethodReference
{
    public sealed record Models(string[] Names, Dictionary<string, double[]> Base, List<Dictionary<string, double[]>> Tasks)
    {
        public int K => Tasks.Count;
        public double[] Tau(int k, string name) =>
            Base[name].Select((b, i) => (double)((float)Tasks[k][name][i] - (float)b)).ToArray();
    }

    public static Models Read(string @base, IEnumerable<string> tasks)
    {
        var b = TestModels.ReadSafetensors(@base);
        return new Models(b.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray(), b, tasks.Select(TestModels.ReadSafetensors).ToList());
    }

    /// <summary>DARE keep flag per the spec: Philox word i of key (seed, task, name), u = (bits &gt;&gt; 8) 2^-24, keep iff u &gt;= p (p as f32).</summary>
    public static bool[] DareKeep(ulong seed, int task, string name, int n, double p)
    {
        var bits = new uint[n];
        Philox.FillBits(PhiloxKey.ForTensor(seed, task, name), 0, bits);
        return bits.Select(x => (x >> 8) * Math.Pow(2, -24) >= (float)p).ToArray();
    }

    /// <summary>DARE-dropped task vector (values rounded to f32 like the engine's working type).</summary>
    public static double[] Dare(double[] tau, bool[] keep, string rescale, double p)
    {
        double scale = rescale switch
        {
            "inverse" => 1 / (1 - p),
            "none" => 1,
            _ => L1Scale(tau, keep),
        };
        return tau.Select((t, i) => keep[i] ? (double)((float)t * (float)scale) : 0).ToArray();
    }

    private static double L1Scale(double[] tau, bool[] keep)
    {
        double total = tau.Sum(Math.Abs), kept = tau.Where((_, i) => keep[i]).Sum(Math.Abs);
        return total >= 1e-7 && kept >= 1e-7 ? total / kept : 1;
    }

    /// <summary>Indices sorted by |x| descending, then index ascending.</summary>
    public static int[] RankOrder(double[] x) =>
        Enumerable.Range(0, x.Length).OrderByDescending(i => Math.Abs(x[i])).ThenBy(i => i).ToArray();

    public sealed record TiesSettings(double K = 0.2, bool Global = true, bool Majority = true, string Merge = "sum", double Lambda = 0.3, double[]? Weights = null);

    /// <summary>TIES on task vectors taus[k][name]; returns theta per name.</summary>
    public static Dictionary<string, double[]> Ties(Models m, List<Dictionary<string, double[]>> taus, TiesSettings s)
    {
        double[] w = s.Weights ?? Enumerable.Repeat(1.0, m.K).ToArray();
        var trimmed = taus.Select(t => t.ToDictionary(e => e.Key, e => (double[])e.Value.Clone())).ToList();
        for (int k = 0; k < m.K; k++)
        {
            if (s.Global)
            {
                var all = m.Names.SelectMany(n => taus[k][n]).Select(Math.Abs).OrderByDescending(a => a).ToArray();
                long d = all.Length;
                long r = Math.Min((long)Math.Floor(s.K * d) + 1, d);
                double threshold = all[r - 1];
                foreach (var n in m.Names)
                    for (int i = 0; i < trimmed[k][n].Length; i++)
                        if (Math.Abs(trimmed[k][n][i]) < threshold) trimmed[k][n][i] = 0;
            }
            else
            {
                foreach (var n in m.Names)
                {
                    var x = trimmed[k][n];
                    long keep = Math.Max(1, (long)Math.Floor(s.K * x.Length));
                    foreach (int i in RankOrder(x).Skip((int)keep)) x[i] = 0;
                }
            }
        }
        var gamma = m.Names.ToDictionary(n => n, n => Enumerable.Range(0, m.Base[n].Length)
            .Select(i => (double)Math.Sign(Enumerable.Range(0, m.K).Sum(k => w[k] * trimmed[k][n][i]))).ToArray());
        double total = gamma.Values.SelectMany(g => g).Sum();
        double zeroSign = !s.Majority ? 1 : total > 0 ? 1 : -1;
        var result = new Dictionary<string, double[]>();
        foreach (var n in m.Names)
        {
            var r = new double[m.Base[n].Length];
            for (int i = 0; i < r.Length; i++)
            {
                double g = gamma[n][i] == 0 ? zeroSign : gamma[n][i];
                double sum = 0, den = 0, max = 0;
                for (int k = 0; k < m.K; k++)
                {
                    double v = w[k] * trimmed[k][n][i];
                    if (v == 0 || Math.Sign(v) != g) continue;
                    sum += v;
                    den += w[k];
                    max = Math.Max(max, Math.Abs(v));
                }
                double merged = s.Merge switch { "sum" => sum, "mean" => sum / (den == 0 ? 1 : den), _ => max * g };
                r[i] = m.Base[n][i] + s.Lambda * merged;
            }
            result[n] = r;
        }
        return result;
    }

    /// <summary>theta0 + lambda * sum_k w_k taus[k].</summary>
    public static Dictionary<string, double[]> Linear(Models m, List<Dictionary<string, double[]>> taus, double lambda, double[] w) =>
        m.Names.ToDictionary(n => n, n => m.Base[n].Select((b, i) => b + lambda * Enumerable.Range(0, m.K).Sum(k => w[k] * taus[k][n][i])).ToArray());

    /// <summary>Breadcrumbs' drop on one tensor's task vector.</summary>
    public static double[] Breadcrumbs(double[] tau, double gamma, double density)
    {
        long n = tau.Length;
        long top = (long)Math.Floor(gamma * n), target = (long)Math.Floor(density * n), bottom = n - target - top;
        if (bottom < 0) { top += bottom; bottom = 0; }
        var order = RankOrder(tau);
        var r = (double[])tau.Clone();
        for (int j = 0; j < n; j++)
            if (j < top || j >= n - bottom) r[order[j]] = 0;
        return r;
    }

    /// <summary>Term scale of element i for relative errors: |theta0| + lambda * sum_k |w_k tau_k|.</summary>
    public static double Scale(Models m, List<Dictionary<string, double[]>> taus, string n, int i, double lambda, double[] w) =>
        Math.Abs(m.Base[n][i]) + Enumerable.Range(0, m.K).Sum(k => Math.Abs(lambda * w[k] * taus[k][n][i]));

    /// <summary>Asserts a merged file against a reference: 1e-6 of the term scale for f32/f64 outputs, 1 ulp after rounding for f16/bf16.</summary>
    public static void AssertClose(string mergedPath, Dictionary<string, double[]> reference, Func<string, int, double> scale)
    {
        var merged = TestModels.ReadSafetensors(mergedPath);
        var dtypes = TestModels.Mixed.ToDictionary(s => s.Name, s => s.DType);
        foreach (var (name, expected) in reference)
        {
            var actual = merged[name];
            DType dt = dtypes.GetValueOrDefault(name, DType.F32);
            for (int i = 0; i < actual.Length; i++)
            {
                if (dt is DType.F32 or DType.F64)
                    Assert.That(Math.Abs(actual[i] - expected[i]), Is.LessThanOrEqualTo(1e-6 * scale(name, i) + 1e-30), $"{name}[{i}]");
                else
                    Assert.That(Ulp.Distance(actual[i], Ulp.Round(expected[i], dt), dt), Is.LessThanOrEqualTo(1), $"{name}[{i}] ({dt})");
            }
        }
    }

    public static MergeResult Run(string method, string @base, string[] tasks, string @out, Dictionary<string, string>? set = null, ulong seed = 0, int threads = 0) =>
        Merger.Merge(new MergeRequest { Method = method, Base = @base, Models = tasks, Out = @out, Set = set ?? [], Seed = seed, Threads = threads });
}
