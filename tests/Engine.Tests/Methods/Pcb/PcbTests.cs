using Amalgam.Engine.Tests.Support;

namespace Amalgam.Engine.Tests.Methods.Pcb;

/// <summary>
/// pcb through Merger.Merge against <see cref="PcbReference"/>. PCB keeps an entry when its score
/// lies above a quantile, a discontinuous choice: an element whose task vector differs by one f32
/// rounding between engine and reference could flip. The data is therefore built so that tau =
/// theta_k - theta0 is exact in f32 (values on binary grids; asserted below): engine and reference
/// then start from the same task vectors, evaluate the scores in f64 and hold them as f32 (the
/// documented score precision), so they rank the same numbers; only an f64-level difference that
/// straddles an f32 rounding boundary (about 1e-9 per element) could still flip one.
/// </summary>
public class PcbTests
{
    /// <summary>Base on a 2^-10 grid, task vectors on a 2^-18 grid (|tau| &lt;= 0.05): every stored difference is an f32.</summary>
    private static (string Base, string[] Tasks) WriteGrid(string dir, int k, int seed)
    {
        var rng = new Random(seed);
        var specs = TestModels.Mixed;
        var theta0 = specs.Select(s => Enumerable.Range(0, (int)s.Count).Select(_ => rng.Next(-1024, 1025) / 1024f).ToArray()).ToArray();
        string b = Path.Combine(dir, "base.safetensors");
        TestModels.Write(b, specs, theta0);
        var tasks = new string[k];
        for (int t = 0; t < k; t++)
        {
            // Task-specific spread so the tasks' quantiles differ.
            int spread = 13107 * (t + 2) / (k + 1);
            var values = theta0.Select(v => v.Select(x => x + rng.Next(-spread, spread + 1) / 262144f).ToArray()).ToArray();
            tasks[t] = Path.Combine(dir, $"task{t}.safetensors");
            TestModels.Write(tasks[t], specs, values);
        }
        return (b, tasks);
    }

    [TestCase(null, null, 3, 60)]
    [TestCase(0.3, 0.7, 4, 61)]
    [TestCase(1.0, 1.0, 2, 62)]
    [TestCase(0.01, -0.5, 3, 63)]
    public void MatchesTheF64Reference(double? ratio, double? lambda, int k, int seed)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = WriteGrid(dir.Path, k, seed);
        var set = new Dictionary<string, string>();
        if (ratio is not null) set["ratio"] = ratio.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (lambda is not null) set["lambda"] = lambda.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var run = MethodRun.Run(dir.Path, "pcb", b, tasks, TestModels.Mixed, set);

        // Global flattening: shared tensors sorted by name (ordinal), as the engine observes them.
        string[] names = run.Theta0.Keys.Order(StringComparer.Ordinal).ToArray();
        var offsets = new Dictionary<string, int>();
        int d = 0;
        foreach (string n in names) { offsets[n] = d; d += run.Theta0[n].Length; }
        double[] theta0 = names.SelectMany(n => run.Theta0[n]).ToArray();
        double[][] tau = Enumerable.Range(0, k).Select(t => names.SelectMany(n => run.Thetas[t][n].Select((v, i) => v - run.Theta0[n][i])).ToArray()).ToArray();
        for (int t = 0; t < k; t++)
            foreach (string n in names)
                for (int i = 0; i < run.Theta0[n].Length; i++)
                    Assert.That((double)((float)run.Thetas[t][n][i] - (float)run.Theta0[n][i]), Is.EqualTo(run.Tau(t, n, i)), "precondition: tau exact in f32");

        var reference = new PcbReference(theta0, tau, ratio ?? 0.05, lambda ?? 1.2);
        run.AssertMatches((name, i) => (reference.Merged[offsets[name] + i], reference.Scale[offsets[name] + i]), 1e-5);

        var report = run.Report;
        Assert.That(report.GetProperty("entries_per_task").GetInt64(), Is.EqualTo(d));
        var perTask = report.GetProperty("tasks").EnumerateArray().ToArray();
        Assert.That(perTask, Has.Length.EqualTo(k));
        for (int t = 0; t < k; t++)
        {
            Assert.That(perTask[t].GetProperty("clip_low").GetDouble(), Is.EqualTo(reference.Low[t]).Within(1e-12), $"task {t}");
            Assert.That(perTask[t].GetProperty("clip_high").GetDouble(), Is.EqualTo(reference.High[t]).Within(1e-12), $"task {t}");
            Assert.That(perTask[t].GetProperty("beta_threshold").GetDouble(), Is.EqualTo(reference.Threshold[t]).Within(1e-9 * Math.Max(1, Math.Abs(reference.Threshold[t]))), $"task {t}");
            Assert.That(perTask[t].GetProperty("kept_fraction").GetDouble(), Is.EqualTo((double)reference.Kept[t] / d), $"task {t}");
        }
        Assert.That(reference.Kept.Max(), Is.GreaterThan(0), "something is merged");
    }
}
