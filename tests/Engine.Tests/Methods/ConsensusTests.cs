using Amalgam.Engine.Tests.Support;

namespace Amalgam.Engine.Tests.Methods;

/// <summary>
/// consensus (TALL masks + Consensus Merging) against f64 loops: tau_MTL = sum_k tau_k,
/// m_k = |tau_k| &gt;= tall_lambda |tau_MTL - tau_k|, keep where at least min_agree masks hold,
/// theta = theta0 + lambda tau_MTL keep.
/// </summary>
public class ConsensusTests
{
    // tall_lambda, min_agree, lambda (null = default), K
    [TestCase(null, null, null, 3)]
    [TestCase(0.6, 1L, 1.0, 3)]
    [TestCase(0.2, 2L, -0.4, 3)]
    [TestCase(0.6, 3L, 0.5, 4)]
    [TestCase(0.4, 0L, 0.3, 2)]   // min_agree 0: everything kept (task arithmetic)
    [TestCase(0.4, 5L, 0.3, 4)]   // more than K: nothing kept (the base)
    public void MatchesTheF64Reference(double? tall, long? minAgree, double? lambda, int k)
    {
        using var dir = Fixtures.NewTempDir();
        var (b, tasks) = TestModels.WriteRandomSafetensors(dir.Path, TestModels.Mixed, k, seed: 40 + k);
        var set = new Dictionary<string, string>();
        if (tall is not null) set["tall_lambda"] = tall.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        if (minAgree is not null) set["min_agree"] = minAgree.Value.ToString();
        if (lambda is not null) set["lambda"] = lambda.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var run = MethodRun.Run(dir.Path, "consensus", b, tasks, TestModels.Mixed, set);
        double tl = tall ?? 0.4, lam = lambda ?? 0.3;
        long agreeNeeded = minAgree ?? 2;
        long kept = 0, total = 0;
        run.AssertMatches((name, i) =>
        {
            var tau = Enumerable.Range(0, run.K).Select(t => run.Tau(t, name, i)).ToArray();
            double mtl = 0;
            foreach (double x in tau) mtl += x;
            int agree = 0;
            foreach (double x in tau) if (Math.Abs(x) >= tl * Math.Abs(mtl - x)) agree++;
            bool keep = agree >= agreeNeeded;
            total++;
            if (keep) kept++;
            double theta0 = run.Theta0[name][i];
            return (theta0 + lam * (keep ? mtl : 0), Math.Abs(theta0) + Math.Abs(lam) * tau.Sum(Math.Abs));
        }, 1e-6);
        var report = run.Report;
        Assert.That(report.GetProperty("kept_entries").GetInt64(), Is.EqualTo(kept));
        Assert.That(report.GetProperty("total_entries").GetInt64(), Is.EqualTo(total));
        if (agreeNeeded == 0) Assert.That(kept, Is.EqualTo(total));
        else if (agreeNeeded > k) Assert.That(kept, Is.Zero);
        else Assert.That(kept, Is.InRange(1, total - 1), "the data exercises both outcomes");
    }
}
