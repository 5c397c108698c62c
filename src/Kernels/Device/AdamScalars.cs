using Amalgam.Kernels.Optim;

namespace Amalgam.Kernels.Device;

/// <summary>
/// The per-step f32 constants of <see cref="Adam.Step"/>, computed in float64 and rounded once exactly as
/// it does (so a device step is the host step to the bit):
/// decay = 1 - lr wd, stepSize = lr / (1 - b1^t), bc2Sqrt = sqrt(1 - b2^t), oneMinusB1 = 1 - b1, oneMinusB2 = 1 - b2.
/// Flags are ints (kernel parameters are plain unmanaged data).
/// </summary>
internal readonly struct AdamScalars
{
    public readonly float Decay, L2, OneMinusB1, Beta2, OneMinusB2, StepSize, Bc2Sqrt, Epsilon;
    public readonly int Decoupled, UsesL2;

    public AdamScalars(in AdamSettings settings, long step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(step, 1L);
        settings.Validate();
        double lr = settings.LearningRate, b1 = settings.Beta1, b2 = settings.Beta2, wd = settings.WeightDecay;
        Decoupled = settings.DecoupledWeightDecay && wd != 0 ? 1 : 0;
        UsesL2 = !settings.DecoupledWeightDecay && wd != 0 ? 1 : 0;
        Decay = (float)(1.0 - lr * wd);
        L2 = (float)wd;
        OneMinusB1 = (float)(1.0 - b1);
        Beta2 = settings.Beta2;
        OneMinusB2 = (float)(1.0 - b2);
        StepSize = (float)(lr / (1.0 - Math.Pow(b1, step)));
        Bc2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(b2, step));
        Epsilon = settings.Epsilon;
    }
}
