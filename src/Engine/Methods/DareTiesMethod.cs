using Amalgam.Engine.Merging;
using Amalgam.Kernels.Merge;
namespace Amalgam.Engine.Methods;

/// <summary>
/// DARE + TIES: each task vector goes through <see cref="DareDrop"/> (p 0.5, rescale
/// inverse|l1|none, mask keyed by --seed, task, tensor name, element), then <see cref="TiesMethod"/> with
/// all its options and compat presets; defaults k 0.2, merge sum, lambda 0.5. The drop is
/// recomputed from the counter-based RNG in every pass (global thresholds, sign sum, merge), so
/// nothing is stored between passes beyond what TIES itself keeps.
/// </summary>
public static class DareTiesMethod
{
    public static readonly MethodSpec Spec = TiesMethod.BuildSpec("dare_ties",
        "DARE (drop p, rescale) on each task vector, then TIES", 0.5, DareDrop.Parameters,
        s => new TiesMethod(TiesOptions.From(s), DareDrop.From(s)));
}
