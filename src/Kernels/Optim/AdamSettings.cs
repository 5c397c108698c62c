namespace Amalgam.Kernels.Optim;

/// <summary>
/// Hyper-parameters of <see cref="Adam"/> (defaults as torch.optim.Adam). With
/// <see cref="DecoupledWeightDecay"/> (AdamW, Loshchilov and Hutter 2019) the decay shrinks the
/// parameter directly, p = p - lr * wd * p, before the Adam update; without it the decay is L2
/// added to the gradient, g' = g + wd * p, as torch.optim.Adam does.
/// </summary>
public readonly record struct AdamSettings(
    float LearningRate,
    float Beta1 = 0.9f,
    float Beta2 = 0.999f,
    float Epsilon = 1e-8f,
    float WeightDecay = 0f,
    bool DecoupledWeightDecay = true)
{
    /// <summary>Throws ArgumentOutOfRangeException for values no optimiser run should see.</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0f) || float.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be finite and >= 0");
        if (!(Beta1 >= 0f && Beta1 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "must be in [0, 1)");
        if (!(Beta2 >= 0f && Beta2 < 1f)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "must be in [0, 1)");
        if (!(Epsilon >= 0f) || float.IsInfinity(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "must be finite and >= 0");
        if (!(WeightDecay >= 0f) || float.IsInfinity(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "must be finite and >= 0");
    }
}
