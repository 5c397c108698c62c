using System.Globalization;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>
/// When a task's predictions have collapsed (docs/demo-findings.md: entropy minimisation drove
/// `mnist-inverted` to one class for 97.6 % of its inputs, the lowest-entropy state being the
/// collapsed one): the most-predicted class takes more than <c>collapse_share</c> of the probe
/// inputs, or the marginal entropy H(mean p) fell below half its value at step 0. A binary task
/// predicts about half its inputs as one class when it works, so there the share must pass
/// (1 + collapse_share) / 2 instead (0.75 at the default 0.5).
/// </summary>
public static class CollapseRule
{
    /// <summary>The share of inputs on one class above which a task with <paramref name="classes"/> classes counts as collapsed.</summary>
    public static double ShareThreshold(double collapseShare, int classes) => classes <= 2 ? (1 + collapseShare) / 2 : collapseShare;

    /// <summary>Null when <paramref name="now"/> looks healthy, else the one-line warning naming the task.</summary>
    public static string? Check(PredictionStats baseline, PredictionStats now, double collapseShare, bool informationMaximisation = false)
    {
        var inv = CultureInfo.InvariantCulture;
        double threshold = ShareThreshold(collapseShare, now.Classes);
        bool share = now.TopShare > threshold, marginal = now.MarginalEntropy < 0.5 * baseline.MarginalEntropy;
        if (!share && !marginal) return null;
        string why = share
            ? string.Format(inv, "{0:F1}% of its {1} probe inputs are predicted class {2} (threshold {3:F0}%)", 100 * now.TopShare, now.Samples, now.TopClass, 100 * threshold)
            : string.Format(inv, "{0:F1}% of its {1} probe inputs are predicted class {2}", 100 * now.TopShare, now.Samples, now.TopClass);
        string state = now.Step == 0 ? "already at step 0 (the initial merge)" : string.Format(inv, "at step {0}", now.Step);
        string advice = informationMaximisation ? "consider a larger im_weight, fewer steps or a smaller lr"
            : now.Step == 0 ? "entropy minimisation tends to deepen such a collapse: consider objective=im"
            : "lower entropy is not higher accuracy here: consider objective=im, fewer steps or a smaller lr";
        return string.Format(inv, "adamerging: task '{0}' collapses onto one class {1}: {2}; marginal entropy {3:F3} nats (step {4}: {5:F3}{6}), mean entropy {7:F3}; {8}",
            now.Task, state, why, now.MarginalEntropy, baseline.Step, baseline.MarginalEntropy, marginal ? ", fell below half" : "", now.MeanEntropy, advice);
    }
}
