using Amalgam.Engine.Merging;
using Amalgam.Engine.Methods;
using Amalgam.Kernels.Optim;

namespace Amalgam.Engine.Methods.AdaMerging;

/// <summary>One coefficient per task (task-wise) or per task and shared tensor (layer-wise).</summary>
public enum Granularity { Task, Layer }

/// <summary>What the coefficients minimise per task and batch: the paper's mean entropy, or SHOT's information maximisation.</summary>
public enum Objective { Entropy, InformationMaximisation }

/// <summary>
/// Where a step's merge, gradient sum, dot products and Adam run: the host's SIMD kernels (the default,
/// also with --device cuda: ORT then copies theta in and the gradients out each run), or the ILGPU kernels
/// on the run's --device (<see cref="DeviceStep"/>).
/// </summary>
public enum StepBackend { Host, Device }

/// <summary>
/// The effective `adamerging` parameters (see <see cref="Methods.AdaMerging.Spec"/>): how the
/// coefficients are shaped and initialised, Adam's hyper-parameters, the step budget, the data
/// order, the TIES pre-processing of AdaMerging++, how often the resumable state is saved (and the
/// collapse diagnostics measured), the objective and the collapse probe.
/// </summary>
public sealed record AdaMergingOptions(
    Granularity Granularity,
    float Init,
    AdamSettings Adam,
    int Steps,
    int BatchSize,
    int BatchesPerStep,
    bool Shuffle,
    bool TiesPreprocess,
    double TiesK,
    int CheckpointEvery,
    Objective Objective = Objective.Entropy,
    double ImWeight = 1,
    int ProbeSamples = 256,
    double CollapseShare = 0.5,
    StepBackend Step = StepBackend.Host)
{
    public static AdaMergingOptions From(MergeSettings s) => new(
        s.Choice("granularity") == "task" ? Granularity.Task : Granularity.Layer,
        (float)s.Float("init"),
        new AdamSettings((float)s.Float("lr"), (float)s.Float("beta1"), (float)s.Float("beta2"), (float)s.Float("eps"), WeightDecay: 0f),
        checked((int)s.Int("steps")),
        checked((int)s.Int("batch_size")),
        checked((int)s.Int("batches_per_step")),
        s.Bool("shuffle"),
        s.Bool("ties_preprocess"),
        s.Float("k"),
        checked((int)s.Int("checkpoint_every")),
        s.Choice("objective") == "im" ? Objective.InformationMaximisation : Objective.Entropy,
        s.Float("im_weight"),
        checked((int)s.Int("probe_samples")),
        s.Float("collapse_share"),
        s.Choice("step") == "device" ? StepBackend.Device : StepBackend.Host);

    /// <summary>The loss each task's gradient graph computes.</summary>
    internal Autodiff.GradientLoss Loss => Objective == Objective.InformationMaximisation ? Autodiff.GradientLoss.InformationMaximisation : Autodiff.GradientLoss.Entropy;

    /// <summary>The values that define a run's trajectory, for checking that a saved state belongs to this run
    /// (the objective only when it is not the paper's, so states saved before it existed still resume).</summary>
    internal string Fingerprint() => (Objective == Objective.Entropy ? "" : "im=" + ImWeight.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + ";")
        + string.Join(";", Granularity, Init.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Adam.LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture), Adam.Beta1.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Adam.Beta2.ToString("R", System.Globalization.CultureInfo.InvariantCulture), Adam.Epsilon.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        BatchSize, BatchesPerStep, Shuffle, TiesPreprocess, TiesK.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
}
